"""deepzoo: the classic deep-learning model families, end to end, with scikit-learn's conventions."""

from . import persistence
from .autoencoder import StackedAutoEncoder
from .dqn import DQNAgent
from .gan import GAN
from .mlp import MLPClassifier, MLPRegressor
from .persistence import load, save
from .rbm import BernoulliRBM
from .recommend import AutoEncoderRecommender, RBMRecommender
from .som import SelfOrganizingMap

__version__ = "0.1.0"

for _cls in (
    MLPClassifier,
    MLPRegressor,
    DQNAgent,
    GAN,
    SelfOrganizingMap,
    BernoulliRBM,
    StackedAutoEncoder,
    RBMRecommender,
    AutoEncoderRecommender,
):
    persistence.register(_cls)

__all__ = [
    "AutoEncoderRecommender",
    "BernoulliRBM",
    "DQNAgent",
    "GAN",
    "MLPClassifier",
    "MLPRegressor",
    "RBMRecommender",
    "SelfOrganizingMap",
    "StackedAutoEncoder",
    "load",
    "save",
    "__version__",
]
