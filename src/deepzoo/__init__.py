"""deepzoo: the classic deep-learning model families, end to end, with scikit-learn's conventions."""

from importlib.metadata import PackageNotFoundError as _NotInstalled
from importlib.metadata import version as _version

from .data.encoder import TableEncoder
from .engine.persistence import load, save
from .models.autoencoder import StackedAutoEncoder
from .models.dqn import DQNAgent
from .models.gan.estimator import GAN
from .models.mlp import MLPClassifier, MLPRegressor
from .models.rbm import BernoulliRBM
from .models.recommend import AutoEncoderRecommender, BiasRecommender, RBMRecommender
from .models.sequence.forecasting import SeriesForecaster
from .models.sequence.language_model import TextGenerator
from .models.sequence.recurrent import LSTMForecaster
from .models.sequence.text_classifier import SequenceClassifier
from .models.som import SelfOrganizingMap
from .models.video.estimators import VideoClassifier, VideoForecaster
from .models.vision.convnet import ConvNetClassifier
from .models.vision.segmentation import ConvNetSegmenter
from .models.word2vec import Word2Vec
from .tasks import fit

try:  # one version, pyproject.toml's, read from the installed metadata
    __version__ = _version("deepzoo")
except _NotInstalled:  # a source tree that was never installed
    __version__ = "unknown"

__all__ = [
    "AutoEncoderRecommender",
    "BernoulliRBM",
    "BiasRecommender",
    "ConvNetClassifier",
    "ConvNetSegmenter",
    "DQNAgent",
    "GAN",
    "LSTMForecaster",
    "MLPClassifier",
    "MLPRegressor",
    "RBMRecommender",
    "SelfOrganizingMap",
    "SequenceClassifier",
    "SeriesForecaster",
    "StackedAutoEncoder",
    "TableEncoder",
    "TextGenerator",
    "VideoClassifier",
    "VideoForecaster",
    "Word2Vec",
    "fit",
    "load",
    "save",
    "__version__",
]
