"""deepzoo: the classic deep-learning model families, end to end, with scikit-learn's conventions."""

from . import persistence
from .autoencoder import StackedAutoEncoder
from .convnet import ConvNetClassifier
from .data.encoder import TableEncoder
from .dqn import DQNAgent
from .forecasting import SeriesForecaster
from .gan import GAN
from .language_model import TextGenerator
from .mlp import MLPClassifier, MLPRegressor
from .persistence import load, save
from .rbm import BernoulliRBM
from .recommend import AutoEncoderRecommender, BiasRecommender, RBMRecommender
from .recurrent import LSTMForecaster
from .segmentation import ConvNetSegmenter
from .som import SelfOrganizingMap
from .tasks import fit
from .text_classifier import SequenceClassifier
from .video import VideoClassifier, VideoForecaster
from .word2vec import Word2Vec

__version__ = "0.1.0"

for _cls in (
    MLPClassifier,
    MLPRegressor,
    ConvNetClassifier,
    DQNAgent,
    GAN,
    SelfOrganizingMap,
    BernoulliRBM,
    StackedAutoEncoder,
    RBMRecommender,
    AutoEncoderRecommender,
    BiasRecommender,
    LSTMForecaster,
    SequenceClassifier,
    TextGenerator,
    Word2Vec,
    TableEncoder,
    SeriesForecaster,
    ConvNetSegmenter,
    VideoForecaster,
    VideoClassifier,
):
    persistence.register(_cls)

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
