"""The tasks of ``deepzoo fit``: one module per kind of user data, one road through each.

``table`` (classification and regression), ``series`` (forecasting), ``ratings`` (recommenders),
``text``, ``images``, ``segmentation`` and ``clusters``; :mod:`.detect` picks one, :func:`.run.fit`
runs it, :mod:`.predict` scores new data with the saved model.
"""

from .base import FitConfig, Leaderboard, Outcome
from .run import fit

__all__ = ["FitConfig", "Leaderboard", "Outcome", "fit"]
