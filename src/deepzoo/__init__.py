"""deepzoo: the classic deep-learning model families, end to end, with scikit-learn's conventions."""

from . import persistence
from .autoencoder import StackedAutoEncoder
from .dqn import DQNAgent
from .gan import GAN
from .mlp import MLPClassifier, MLPRegressor
from .persistence import load, save
from .rbm import BernoulliRBM
from .som import SelfOrganizingMap

__version__ = "0.1.0"

for _cls in (MLPClassifier, MLPRegressor, DQNAgent, GAN, SelfOrganizingMap, BernoulliRBM, StackedAutoEncoder):
    persistence.register(_cls)

__all__ = [
    "BernoulliRBM",
    "DQNAgent",
    "GAN",
    "MLPClassifier",
    "MLPRegressor",
    "SelfOrganizingMap",
    "StackedAutoEncoder",
    "load",
    "save",
    "__version__",
]
