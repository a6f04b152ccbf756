"""Recommenders on a rating matrix, built on :mod:`deepzoo.models.rbm` and :mod:`deepzoo.models.autoencoder`.

All three are fitted on ``(user, item, rating)`` triples, with ids of any kind (they need not be dense),
on any rating scale (read from the data unless ``rating_scale`` is given; half stars are fine):

* :class:`BiasRecommender`, the classical baseline: global mean + user bias + item bias, shrunk
  towards 0 for users and items with few ratings (Koren's baseline predictor);
* :class:`AutoEncoderRecommender` predicts graded ratings with a :class:`~deepzoo.StackedAutoEncoder`
  on the rows of the matrix: items (``kind='item'``, I-AutoRec, Sedhain et al. 2015) or users
  (``kind='user'``, the course's model), with a loss on the observed ratings only and early stopping
  on held-out ratings;
* :class:`RBMRecommender` learns liked / not liked (ratings below ``like_threshold`` -> 0, the others
  -> 1, unrated masked) with a :class:`~deepzoo.BernoulliRBM` whose visible units are the items.

Each fits the bias model too: users or items never seen in training (cold start) get its answer
(the item's bias for a new user, the user's for a new item, the global mean for both), with a
:class:`ColdStartWarning` that counts them.

Bad input, documented and tested: NaN in a triple, ratings that are not numbers and ratings outside
a given ``rating_scale`` raise a ValueError; duplicate (user, item) pairs warn and keep the last
rating; ``recommend`` for an unknown user warns and ranks the items by their bias.
"""

from .autoencoder import AutoEncoderRecommender
from .base import (
    BiasRecommender,
    ColdStartWarning,
    bias_terms,
    numeric_ratings,
    ranking_metrics,
)
from .boltzmann import RBMRecommender

__all__ = [
    "AutoEncoderRecommender",
    "BiasRecommender",
    "ColdStartWarning",
    "RBMRecommender",
    "bias_terms",
    "numeric_ratings",
    "ranking_metrics",
]
