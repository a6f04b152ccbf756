"""The case studies: one module each, with a ``@dataclass Config`` and ``run(config, out_dir) -> metrics``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CaseStudy:
    """What ``deepzoo list`` shows about a case study and where its code lives."""

    name: str
    family: str
    summary: str
    dataset: str | None  # registry name of the data it needs; None = bundled with an installed package
    module: str
    tour: dict = field(default_factory=dict)  # Config overrides for `deepzoo tour` (a budget of seconds)

    @property
    def offline(self) -> bool:
        return self.dataset is None

    def load(self):
        """The case study's module (imported on demand: the CLI stays fast)."""
        return importlib.import_module(self.module)


CASES: dict[str, CaseStudy] = {
    case.name: case
    for case in [
        CaseStudy(
            "churn",
            "MLP",
            "Will a bank customer leave? (Churn_Modelling.csv, 10,000 customers)",
            "churn",
            "deepzoo.cases.churn",
        ),
        CaseStudy(
            "breast_cancer",
            "MLP",
            "Malignant or benign tumour? (scikit-learn's bundled set)",
            None,
            "deepzoo.cases.breast_cancer",
        ),
        CaseStudy(
            "cartpole",
            "DQN",
            "Balance a pole from reward alone (gymnasium's CartPole-v1)",
            None,
            "deepzoo.cases.cartpole",
            tour={"total_timesteps": 25_000, "final_eval_episodes": 20},
        ),
        CaseStudy(
            "apples",
            "GAN",
            "A GAN learns to draw apples (3,000 Quick, Draw! doodles, 28x28)",
            "quickdraw_apple",
            "deepzoo.cases.apples",
        ),
        CaseStudy(
            "digits_gan",
            "GAN",
            "A GAN learns to draw digits (scikit-learn's bundled 8x8 digits)",
            None,
            "deepzoo.cases.digits_gan",
            tour={"max_iter": 20},
        ),
        CaseStudy(
            "movies_rbm",
            "RBM",
            "Will this user like that movie? (MovieLens 100K, liked / not liked)",
            "movielens_100k",
            "deepzoo.cases.movies_rbm",
        ),
        CaseStudy(
            "movies_autoencoder",
            "AutoEncoder",
            "How many stars will this user give? (MovieLens 100K, 1-5 stars)",
            "movielens_100k",
            "deepzoo.cases.movies_autoencoder",
        ),
        CaseStudy(
            "rbm_digits",
            "RBM",
            "An RBM learns digits: filters and Gibbs samples (scikit-learn's bundled 8x8 digits)",
            None,
            "deepzoo.cases.rbm_digits",
            tour={"max_iter": 20, "sample_steps": 300, "compare_sklearn": False},
        ),
        CaseStudy(
            "autoencoder_digits",
            "AutoEncoder",
            "An autoencoder squeezes digits into 2 numbers (scikit-learn's bundled 8x8 digits)",
            None,
            "deepzoo.cases.autoencoder_digits",
            tour={"max_iter": 60},
        ),
        CaseStudy(
            "fraud",
            "SOM",
            "Which credit-card applicants may have cheated? (690 applications, SOM + MLP)",
            "credit_card_applications",
            "deepzoo.cases.fraud",
        ),
        CaseStudy(
            "som_digits",
            "SOM",
            "A self-organizing map sorts handwritten digits (scikit-learn's bundled 8x8 digits)",
            None,
            "deepzoo.cases.som_digits",
            tour={"max_iter": 30},
        ),
        CaseStudy(
            "stock",
            "LSTM",
            "Tomorrow's Google opening price beside persistence (goog.npz; --data: the course's files)",
            None,
            "deepzoo.cases.stock",
            tour={"course_recipe": False, "max_iter": 20},
        ),
        CaseStudy(
            "sms_spam",
            "SequenceClassifier",
            "Is this text message spam? (UCI SMS Spam Collection, 5,574 raw messages)",
            "sms_spam",
            "deepzoo.cases.sms_spam",
        ),
        CaseStudy(
            "imdb",
            "SequenceClassifier",
            "Is this movie review positive? (aclImdb raw reviews, 5,000 train / 5,000 test)",
            "imdb",
            "deepzoo.cases.imdb",
        ),
        CaseStudy(
            "resumes",
            "SequenceClassifier",
            "Which resumes fit this job? (962 resumes, 25 categories, 166 distinct texts)",
            "resumes",
            "deepzoo.cases.resumes",
        ),
        CaseStudy(
            "text_generation",
            "TextGenerator",
            "A recurrent language model writes text messages (SMS Spam Collection's ham messages)",
            "sms_spam",
            "deepzoo.cases.text_generation",
        ),
        CaseStudy(
            "digits",
            "ConvNet",
            "A small ConvNet reads handwritten digits (scikit-learn's bundled 8x8 digits)",
            None,
            "deepzoo.cases.digits",
            tour={"max_iter": 4},
        ),
        CaseStudy(
            "mnist",
            "ConvNet",
            "LeNet-5 reads handwritten digits (MNIST, 60,000 train / 10,000 test, 28x28)",
            "mnist",
            "deepzoo.cases.mnist",
        ),
        CaseStudy(
            "cats_dogs",
            "ConvNet",
            "Cat or dog? ImageNet EfficientNet-Lite0 or from scratch (8,000 / 2,000 photos)",
            "cats_and_dogs",
            "deepzoo.cases.cats_dogs",
        ),
        CaseStudy(
            "hotdog",
            "ConvNet",
            "Hot dog or not? Transfer learning from ImageNet (~500 + ~500 28x28 thumbnails)",
            "hotdog",
            "deepzoo.cases.hotdog",
        ),
        CaseStudy(
            "pedestrians",
            "U-Net",
            "Which pixels are a person? Segmentation on an ImageNet encoder (Penn-Fudan, 120 / 50 photos)",
            "penn_fudan",
            "deepzoo.cases.pedestrians",
        ),
        CaseStudy(
            "moving_mnist",
            "ConvLSTM",
            "The next 10 frames of two bouncing digits (Moving MNIST, 64x64, from MNIST's digits)",
            "mnist",
            "deepzoo.cases.moving_mnist",
        ),
        CaseStudy(
            "motion",
            "CNN + LSTM",
            "Which way does the digit move? 10 frames vs one (MNIST digits sliding in 8 directions)",
            "mnist",
            "deepzoo.cases.motion",
        ),
        CaseStudy(
            "moving_digits",
            "ConvLSTM",
            "The next frames of bouncing digits (Moving MNIST in miniature: scikit-learn's 8x8 digits)",
            None,
            "deepzoo.cases.moving_digits",
            tour={"max_iter": 3, "n_train": 200, "n_test": 100},
        ),
    ]
}
