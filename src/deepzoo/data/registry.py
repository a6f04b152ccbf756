"""The named datasets of the case studies: their files, checksums, source, licence, and where to find them.

A dataset is a folder of files. It is looked for in this order:

1. an explicit ``path`` (the dataset folder, or one file inside it such as ``Churn_Modelling.csv``);
2. ``$DEEPZOO_DATA_DIR/<name>``;
3. the user cache, ``cache_dir()/<name>`` (``$DEEPZOO_CACHE_DIR`` or ``~/.cache/deepzoo``);
4. a download of the dataset's ``url`` into the cache, checked against its sha256 (only for datasets that
   may be redistributed and whose exact bytes are known);
5. else :class:`DatasetNotFoundError`, whose message says where to put which file.

The file lists, sizes and sha256 sums come from each dataset's PROVENANCE.md.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "DEEPZOO_DATA_DIR"
CACHE_DIR_ENV = "DEEPZOO_CACHE_DIR"

# verify() hashes files up to this size; bigger ones are checked by size only, to stay fast.
_HASH_LIMIT = 50 * 1024 * 1024


@dataclass(frozen=True)
class DatasetFile:
    """One file of a dataset: its path relative to the dataset folder, sha256 and size in bytes.

    ``sha256`` and ``size`` are None where they are not pinned (sample files of large image folders).
    """

    name: str
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class Dataset:
    """A named dataset: what it is, its key files (the first one marks the folder), source and licence."""

    name: str
    description: str
    files: tuple[DatasetFile, ...]
    source: str
    licence: str
    case_studies: tuple[str, ...]
    url: str | None = None  # a public download of the single file, only where redistribution is allowed


class DatasetNotFoundError(FileNotFoundError):
    """A named dataset is in none of the places looked in; the message says where to put which file."""


def _f(name: str, sha256: str | None = None, size: int | None = None) -> DatasetFile:
    """Shorthand for the table below."""
    return DatasetFile(name, sha256, size)


_RESEARCH_ONLY = "research / educational use only; do not redistribute"
_MOVIELENS_LICENCE = (
    "GroupLens terms: research use only, cite Harper & Konstan (ACM TiiS 2015), "
    "no redistribution or commercial use without permission"
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            name="churn",
            description="10,000 bank customers (France, Germany, Spain); target Exited (1 = left the bank).",
            files=(
                _f(
                    "Churn_Modelling.csv",
                    "3996cd1fa372e0db0cd9c0ebac35bbd4e8e3c65fb942bb010c826e7b1eeef0a0",
                    684858,
                ),
            ),
            source="SuperDataScience, Deep Learning A-Z (ANN section); copy: "
            "https://github.com/Abhijitkulkarni18/Deep-Learning/blob/"
            "208bf8f7c9e3a1deddd7af1d4a7868c4f4db863f/Churn_Modelling.csv",
            licence="unspecified (course material); educational use",
            case_studies=("churn",),
        ),
        Dataset(
            name="credit_card_applications",
            description="690 credit card applications (UCI Statlog Australian + CustomerID); "
            "Class = approved.",
            files=(
                _f(
                    "Credit_Card_Applications.csv",
                    "21d498deae83f510e94bf9ba6f1e6339d04232f2101910d5d2c1b07b08d5647e",
                    35643,
                ),
            ),
            source="SuperDataScience, Deep Learning A-Z (SOM section); copy: "
            "https://github.com/adityapotdar23/Deep-Learning/blob/"
            "fe615c5098051fd321e82e54e1e915d3ad1d650c/Credit_Card_Applications.csv",
            licence="data: UCI Statlog (Australian), CC BY 4.0; CSV layout: course material, no licence",
            case_studies=("fraud",),
        ),
        Dataset(
            name="google_stock",
            description="Daily GOOG prices, train 2012-2016 (1,258 days) and test Jan 2017 (20 days); "
            "Volume has quoted thousands separators.",
            files=(
                _f(
                    "Google_Stock_Price_Train.csv",
                    "4562853ef186ae4ffbe7511df2b282a915f2385f0b183d91546ebd2e4d79c2b2",
                    63488,
                ),
                _f(
                    "Google_Stock_Price_Test.csv",
                    "ca5da062e65fa9b6e280ea0ad57e510fc9b62a99f6aa2d4b39641008022fd1a3",
                    1029,
                ),
            ),
            source="SuperDataScience, Deep Learning A-Z (RNN section); copy: "
            "https://github.com/stispe/LSTM-test/tree/164faa8d80df30b2955093da098785d9db44120d",
            licence="public market data as course material; no explicit licence",
            case_studies=("stock",),
        ),
        Dataset(
            name="movielens_100k",
            description="GroupLens MovieLens 100K: 100,000 ratings of 1,682 movies by 943 users, "
            "with u1-u5 and ua/ub splits.",
            files=(
                _f("u.data", "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490", 1979173),
                _f("README", "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52", 6750),
                _f("u.genre", "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb", 202),
                _f("u.info", "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b", 36),
                _f("u.item", "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701", 236344),
                _f("u.occupation", "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d", 193),
                _f("u.user", "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c", 22628),
                _f("u1.base", "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a", 1586544),
                _f("u1.test", "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950", 392629),
                _f("u2.base", "6c06f0b5df4b256da1a994f3ac66edc8da4d3f09bc9282df6b14d893366d703e", 1583948),
                _f("u2.test", "4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3", 395225),
                _f("u3.base", "afdc155c291c6edc41c0407e39d7462eb98d341e064f0b0a12175b80b3c4af5d", 1582546),
                _f("u3.test", "0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d", 396627),
                _f("u4.base", "219f0f4d40dfe9c5141d425f53fa91ee23ed275f14e280bbf1b50117afb064ca", 1581878),
                _f("u4.test", "7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9", 397295),
                _f("u5.base", "a9574e59ce961eec2121627760b6e9b0974ce1637b3fe69ac32cb14a4bfab485", 1581776),
                _f("u5.test", "351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634", 397397),
                _f("ua.base", "67b5bcdb380c29f85d56a012ecd88612ae020f30a6730d117a334ee8203b91f2", 1792501),
                _f("ua.test", "d0497e202417720f57a184ec8c66be2d1afa4ff41bb53787c57b28d6bf79bc42", 186672),
                _f("ub.base", "237254d253b6ad7de84f919d041055428646254f34ed8f562703c899430cd881", 1792476),
                _f("ub.test", "d54a72d05730d5892062734b2bec73e976f9b713d18c828a18b968d6cce442da", 186697),
            ),
            source="GroupLens, https://grouplens.org/datasets/movielens/100k/ (the ml-100k folder)",
            licence=_MOVIELENS_LICENCE,
            case_studies=("movies_rbm", "movies_autoencoder"),
        ),
        Dataset(
            name="movielens_1m",
            description="GroupLens MovieLens 1M movie and user metadata; ratings.dat is NOT included.",
            # ratings.dat is absent from the shared copy (see its PROVENANCE.md), so it is not listed here.
            files=(
                _f("movies.dat", "0140fc2356357c1a851d0f52e893a1e4d3696df632c4141cea8d5bc3d621f0b9", 171308),
                _f("users.dat", "1dc3a95300cb19f7c10e027daf29b8cdf1d908dab65b5edfb45950aa389a10a3", 134368),
                _f("README", "2d5ddce86ccbd247207456165827b4b9ddf27282bca93807d4c763e28414f133", 5577),
            ),
            source="GroupLens, https://grouplens.org/datasets/movielens/1m/ (the ml-1m folder)",
            licence=_MOVIELENS_LICENCE,
            case_studies=(),
        ),
        Dataset(
            name="mnist",
            description="MNIST handwritten digits, 60,000 train / 10,000 test, the four IDX .gz files.",
            files=(
                _f(
                    "train-images-idx3-ubyte.gz",
                    "ae46c4f260ac4905871204038b01a6c0a113631ad2d5a23f68961fc8b88747cb",
                    9912422,
                ),
                _f(
                    "train-labels-idx1-ubyte.gz",
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    28881,
                ),
                _f(
                    "t10k-images-idx3-ubyte.gz",
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    1648877,
                ),
                _f(
                    "t10k-labels-idx1-ubyte.gz",
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                    4542,
                ),
            ),
            source="Y. LeCun, C. Cortes, C. J. C. Burges, http://yann.lecun.com/exdb/mnist/ "
            "(train-images .gz re-gzipped: same content, different .gz bytes)",
            licence="commonly listed as CC BY-SA 3.0; cite LeCun et al. 1998",
            case_studies=("mnist", "moving_mnist", "motion"),
        ),
        Dataset(
            name="cats_and_dogs",
            description="Cats vs. dogs JPEGs (longer side <= 128 px): training_set/{cats,dogs} 4,000 each, "
            "test_set/{cats,dogs} 1,000 each.",
            # 10,000 images: only two sample images (unpinned) and the SHA256SUMS list of all of them are
            # listed; `sha256sum -c SHA256SUMS` in the folder checks every image.
            files=(
                _f("training_set/cats/cat.1.jpg"),
                _f("test_set/dogs/dog.4001.jpg"),
                _f("SHA256SUMS", "d2f32646b32b9a0b192684cd07c09e86b221b2fd8e0848d354bb5a805f1df1a8", 959786),
            ),
            source="Deep Learning A-Z CNN folders (Kaggle Dogs vs. Cats / Asirra); copy: "
            "https://github.com/sudarshan-koirala/CNN-for-image-Classification/tree/"
            "44d62ade1191313b669dbcca6e65a42d7605407d/dataset",
            licence=_RESEARCH_ONLY,
            case_studies=("cats_dogs",),
        ),
        Dataset(
            name="hotdog",
            description="Hot dog or not, train/ and test/ {hot_dog,not_hot_dog}, 995 28x28 thumbnails.",
            # 995 images: two sample images (unpinned) and the SHA256SUMS list of all of them.
            files=(
                _f("train/hot_dog/1000288.jpg"),
                _f("test/not_hot_dog/13023.jpg"),
                _f("SHA256SUMS", "41ad4c0bb285bb3eb81f878d5b27db30b2915e2e149a60bc79ad409ff908dabd", 91891),
            ),
            source="Kaggle dansbecker/hot-dog-not-hot-dog (Food-101); 28x28 copy: "
            "https://github.com/JSeam2/qSeeFood/tree/9058df2628ec96337f52955fb8278cf51f00c3ae/data",
            licence=_RESEARCH_ONLY,
            case_studies=("hotdog",),
        ),
        Dataset(
            name="quickdraw_apple",
            description="3,000 Quick, Draw! 'apple' doodles, quickdraw_apple.npz key 'images', "
            "(3000, 28, 28) uint8.",
            files=(
                _f(
                    "quickdraw_apple.npz",
                    "8399bb14a51d510bbd1d2b824004d8b61d8d8b42e6abd8c9b1ca72b83f6e33ed",
                    787074,
                ),
            ),
            source="Google Quick, Draw! (numpy bitmaps), reshaped from data/apple.npy of "
            "https://github.com/sukumr/Doodle-Classifier/tree/a4fae56015125f73b2fe9e6e086cfc7444f95577",
            licence="CC BY 4.0 (attribution: 'Quick, Draw! data set, Google')",
            case_studies=("apples",),
        ),
        Dataset(
            name="imdb",
            description="IMDB reviews: Keras imdb_word_index.json and aclImdb_subset/{train,test}/{pos,neg}, "
            "2,500 texts per folder.",
            # 10,000 review files: one sample review (unpinned) and SHA256SUMS, which lists every file.
            # The sizes of README and imdb.vocab come from the shared copy (PROVENANCE gives sha256 only).
            files=(
                _f(
                    "imdb_word_index.json",
                    "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6",
                    1641221,
                ),
                _f(
                    "aclImdb_subset/README",
                    "a69bd3b91235c7fa1d6aadab51e257b7fa3f7b68f32b607483a72bd67f95e557",
                    4037,
                ),
                _f(
                    "aclImdb_subset/imdb.vocab",
                    "01a13a306bd9e5a7826b8a0fc25a7a6017f143d86c1582f17857bb731fd252dc",
                    845980,
                ),
                _f("aclImdb_subset/train/pos/0_9.txt"),
                _f("SHA256SUMS", "43f6a37f8b7b0b4730263f18f3b0c5fee3c2d562e96a534c3b45e06094d6ffb8", 1012834),
            ),
            source="Stanford Large Movie Review Dataset v1.0, https://ai.stanford.edu/~amaas/data/sentiment/ "
            "(first 2,500 ids per folder); word index from Keras",
            licence="research use (cite Maas et al., ACL 2011); word index from the Apache-2.0 Keras project",
            case_studies=("imdb",),
        ),
        Dataset(
            name="sms_spam",
            description="UCI SMS Spam Collection v.1: 5,574 messages, 'label<TAB>text', 747 spam.",
            files=(
                _f(
                    "SMSSpamCollection",
                    "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d",
                    477907,
                ),
            ),
            source="Almeida & Gomez Hidalgo, UCI Machine Learning Repository, "
            "https://archive.ics.uci.edu/dataset/228/sms+spam+collection",
            licence="CC BY 4.0 (cite Almeida, Gomez Hidalgo & Yamakami, DocEng'11)",
            case_studies=("sms_spam",),
            # The exact bytes of the shared copy (same sha256), at a fixed commit; CC BY 4.0 allows this.
            url="https://raw.githubusercontent.com/learn-co-students/"
            "dsc-document-classification-with-naive-bayes-lab-online-ds-pt-051319/"
            "2f98ca443ecd26e1088b369260f1e9782e2e36fc/SMSSpamCollection",
        ),
        Dataset(
            name="resumes",
            description="962 categorised resumes (25 categories, only 166 distinct texts) and "
            "232 job descriptions.",
            files=(
                _f(
                    "UpdatedResumeDataSet.csv",
                    "502444b2e4911d5e82caa1883e8bc350c8543e963f3f05bff18cf0db618c859e",
                    3107007,
                ),
                _f("JobDesc.csv", "3aa9e43e8771b74af68efddddd9d111cd73e421ff86d45e31f41cfe4cd85eeaa", 273510),
            ),
            source="Kaggle 'Resume Dataset' (UpdatedResumeDataSet.csv), copy: "
            "https://github.com/Jamadagyajit-Swain/Resume-Screening-using-Python-Streamlit; JobDesc.csv: "
            "https://github.com/singh19dhananjay/Workforce-Acquisition-using-Text-Mining",
            licence=_RESEARCH_ONLY,
            case_studies=("resumes",),
        ),
        # -- the own-data tables of deepzoo fit (issue 13): messy public files, read as a user's would be
        Dataset(
            name="titanic",
            description="Kaggle Titanic train.csv: 891 passengers, target Survived; CRLF, quoted names, "
            "empty cells (Age 177, Cabin 687).",
            files=(
                _f("train.csv", "7d118fef8b6ccf7f81111877bc388536f7b1e498a655e3d649d19aaa010e9f6f", 61194),
            ),
            source="Kaggle 'Titanic - Machine Learning from Disaster', train.csv",
            licence="Kaggle competition rules; widely redistributed for teaching",
            case_studies=("deepzoo fit",),
        ),
        Dataset(
            name="adult",
            description="UCI Adult (census income): 32,561 + 16,281 rows, no header, ', ' separated, '?' for "
            "missing, target column 14 (<=50K / >50K; adult.test's labels end in '.').",
            files=(
                _f("adult.data", "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d", 3974305),
                _f("adult.test", "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05", 2003153),
                _f("adult.names", "c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a", 5229),
            ),
            source="Becker & Kohavi (1996), UCI Machine Learning Repository, https://doi.org/10.24432/C5XW20",
            licence="CC BY 4.0 (cite Becker & Kohavi 1996)",
            case_studies=("deepzoo fit",),
        ),
        Dataset(
            name="california_housing",
            description="Geron's housing.csv: 20,640 districts, target median_house_value; 207 empty "
            "total_bedrooms, a text column ocean_proximity.",
            files=(
                _f(
                    "housing.csv", "8a3727f4cf54ac1a327f69b1d5b4db54c5834ea81c6e4efc0d163300022a685e", 1423529
                ),
            ),
            source="Pace & Barry (1997) via StatLib; the handson-ml2 repository (Geron)",
            licence="Apache-2.0 (the handson-ml2 repository); US census figures",
            case_studies=("deepzoo fit",),
        ),
        Dataset(
            name="insurance",
            description="Medical Cost Personal: 1,338 rows, target charges; CRLF, one duplicated row.",
            files=(
                _f(
                    "insurance.csv", "388eff679557d08ac19f463d025de5e0b4adc482537c8456d19934d78621fd47", 55628
                ),
            ),
            source="Lantz, Machine Learning with R (stedy/Machine-Learning-with-R-datasets)",
            licence="educational use (public domain according to its source; no licence file)",
            case_studies=("deepzoo fit",),
        ),
        Dataset(
            name="air_passengers",
            description="Box & Jenkins' monthly airline passengers (thousands), 1949-01 to 1960-12: "
            "Month,#Passengers.",
            files=(
                _f(
                    "AirPassengers.csv",
                    "5f8b316b84545d9cfb05612298df8415ce4c44421c7012d109465564b07ebc06",
                    1746,
                ),
            ),
            source="Box & Jenkins (1976), Time Series Analysis; the R datasets package",
            licence="published data (Box & Jenkins 1976); no licence file",
            case_studies=("deepzoo fit",),
        ),
        Dataset(
            name="penn_fudan",
            description="Penn-Fudan pedestrians: 170 street photos (PennFudanPed/PNGImages) and their "
            "instance masks (PennFudanPed/PedMasks/<name>_mask.png: 0 background, k the k-th person).",
            # 512 files: the readme, a sample photo and mask (unpinned) and SHA256SUMS, which lists all.
            files=(
                _f(
                    "PennFudanPed/readme.txt",
                    "5bcd7fb0ca14c088b85b63caf3ac3ef663263c47677fc930cca5754dc2d94f9a",
                    2416,
                ),
                _f("PennFudanPed/PNGImages/FudanPed00001.png"),
                _f("PennFudanPed/PedMasks/PennPed00096_mask.png"),
                _f("SHA256SUMS", "ecaee265390f4ed6af2024203f221308a9ea9b5f3b5bc5123ce8535685c3be56", 55323),
            ),
            source="Wang, Shi, Song & Shen, 'Object Detection Combining Recognition and Segmentation' "
            "(ACCV 2007), https://www.cis.upenn.edu/~jshi/ped_html/; copy: "
            "https://github.com/swallan/PennFudanPed/tree/ec1d4583fb436b14e2062587c8b28a5018668a5e",
            licence=_RESEARCH_ONLY,
            case_studies=("pedestrians",),
        ),
    ]
}


def cache_dir() -> Path:
    """The user cache of datasets: ``$DEEPZOO_CACHE_DIR``, else ``~/.cache/deepzoo``.

    Returns
    -------
    Path
        The folder; it is not created here.

    Examples
    --------
    >>> from pathlib import Path
    >>> from deepzoo.data.registry import cache_dir
    >>> isinstance(cache_dir(), Path)
    True
    """
    value = os.environ.get(CACHE_DIR_ENV)
    if value:
        return Path(value).expanduser()
    return Path.home() / ".cache" / "deepzoo"


def _get(name: str) -> Dataset:
    """The registered dataset ``name``, or a ValueError that lists the names and suggests the nearest."""
    if name in DATASETS:
        return DATASETS[name]
    close = difflib.get_close_matches(str(name), list(DATASETS), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise ValueError(f"Unknown dataset '{name}'; known datasets: {', '.join(DATASETS)}.{hint}")


def _holds(folder: Path, dataset: Dataset) -> bool:
    """Whether ``folder`` holds the dataset, judged by its first (key) file."""
    return (folder / dataset.files[0].name).is_file()


def locate(name: str, path=None) -> tuple[Path | None, str]:
    """Find the folder of a named dataset without downloading anything.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`, e.g. ``"churn"``.
    path : str or path-like, optional
        An explicit location: the dataset folder, a file inside it (its parent folder is used), or a
        folder holding ``<name>/``. It must exist.

    Returns
    -------
    folder : Path or None
        The dataset folder, or None when it was not found.
    where : str
        How it was found: ``"path"``, ``"DEEPZOO_DATA_DIR"``, ``"cache"`` or ``"missing"``.

    Raises
    ------
    FileNotFoundError
        When ``path`` is given but does not exist.
    ValueError
        When ``name`` is not a registered dataset.

    Examples
    --------
    >>> from deepzoo.data.registry import locate
    >>> folder, where = locate("churn")
    >>> where in {"DEEPZOO_DATA_DIR", "cache", "missing"}
    True
    """
    dataset = _get(name)
    if path is not None:
        given = Path(path).expanduser()
        if not given.exists():
            raise FileNotFoundError(f"Data path not found: {given}")
        if given.is_file():
            return given.parent, "path"
        # A data root such as shared/datasets is accepted too: use its <name>/ subfolder.
        if not _holds(given, dataset) and _holds(given / name, dataset):
            return given / name, "path"
        return given, "path"
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir and _holds(Path(data_dir).expanduser() / name, dataset):
        return Path(data_dir).expanduser() / name, DATA_DIR_ENV
    if _holds(cache_dir() / name, dataset):
        return cache_dir() / name, "cache"
    return None, "missing"


def _not_found(dataset: Dataset, reason: str = "") -> DatasetNotFoundError:
    """The error for a dataset found nowhere: where to put which file, and where to get it."""
    names = [f.name for f in dataset.files]
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    data_dir = os.environ.get(DATA_DIR_ENV)
    env = f"{DATA_DIR_ENV}={data_dir}" if data_dir else f"{DATA_DIR_ENV} is not set"
    download = f" {reason}" if reason else ""
    if dataset.url and not reason:
        download = f" Or allow the download from {dataset.url}."
    # Image and text folders list only samples: the whole tree is needed, not just those files.
    what = f"its folder tree (with e.g. {shown})" if any(f.sha256 is None for f in dataset.files) else shown
    return DatasetNotFoundError(
        f"Dataset '{dataset.name}' not found. Put {what} in ${DATA_DIR_ENV}/{dataset.name}/ ({env}), "
        f"or in {cache_dir() / dataset.name}/, or pass the folder or a file in it as the data path "
        f"(--data).{download} "
        f"Source: {dataset.source}. Licence: {dataset.licence}."
    )


def _download(url: str, dest, sha256: str) -> Path:
    """Download ``url`` to ``dest`` via a temporary file; ValueError (and no file) on a sha256 mismatch."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # A unique temporary name in the same folder: concurrent processes never see a half-written file.
    handle, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ValueError(
                f"Checksum mismatch for {url}: expected sha256 {sha256}, got {digest.hexdigest()}. "
                "The download was deleted; the source may have changed or the transfer was corrupted."
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _resolve(name: str, path, download: bool) -> tuple[Path, str]:
    """The dataset folder and how it was found (``"download"`` when fetched now)."""
    dataset = _get(name)
    folder, where = locate(name, path)
    if folder is not None:
        return folder, where
    if not (download and dataset.url):
        raise _not_found(dataset)
    key = dataset.files[0]
    dest = cache_dir() / name / key.name
    logger.info("Downloading %s to %s", dataset.url, dest)
    try:
        _download(dataset.url, dest, key.sha256)
    except OSError as exc:  # urllib's URLError and HTTPError are OSErrors
        reason = getattr(exc, "reason", exc)
        raise _not_found(dataset, f"The download from {dataset.url} failed ({reason}).") from exc
    return dest.parent, "download"


def resolve(name: str, path=None, *, download: bool = True) -> Path:
    """The folder holding a named dataset's files, downloading it into the cache where allowed.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    path : str or path-like, optional
        An explicit dataset folder or a file inside it; see :func:`locate`.
    download : bool, default=True
        Whether to fetch a dataset that has a ``url`` into ``cache_dir()/<name>`` when it is found nowhere.

    Returns
    -------
    Path
        The dataset folder.

    Raises
    ------
    DatasetNotFoundError
        When the dataset is found nowhere and cannot be downloaded; the message says where to put which file.
    ValueError
        When a download does not match its sha256 (the file is deleted), or ``name`` is unknown.

    Examples
    --------
    >>> from deepzoo.data.registry import DatasetNotFoundError, resolve
    >>> try:
    ...     folder = resolve("churn")
    ... except DatasetNotFoundError as exc:
    ...     assert "DEEPZOO_DATA_DIR" in str(exc)
    """
    return _resolve(name, path, download)[0]


def dataset_file(name: str, filename: str | None = None, path=None) -> Path:
    """One file of a named dataset, default its first (key) file.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    filename : str, optional
        The file's path relative to the dataset folder, e.g. ``"u1.base"``; default the dataset's first file.
    path : str or path-like, optional
        An explicit dataset folder, or a file. A file is returned as is when ``filename`` is None or names it,
        so ``path="my_churn.csv"`` works whatever the file is called.

    Returns
    -------
    Path
        The existing file.

    Raises
    ------
    DatasetNotFoundError
        When the dataset or the file in its folder is missing.

    Examples
    --------
    >>> from deepzoo.data.registry import DatasetNotFoundError, dataset_file
    >>> try:
    ...     csv = dataset_file("churn")
    ... except DatasetNotFoundError:
    ...     csv = None
    >>> csv is None or csv.name == "Churn_Modelling.csv"
    True
    """
    dataset = _get(name)
    folder, where = _resolve(name, path, download=True)
    if path is not None and Path(path).expanduser().is_file():
        given = Path(path).expanduser()
        if filename is None or filename == given.name:
            return given
    filename = filename or dataset.files[0].name
    file = folder / filename
    if not file.is_file():
        raise DatasetNotFoundError(
            f"{file} not found: the '{name}' folder {folder} (found via {where}) lacks {filename}. "
            f"Source: {dataset.source}."
        )
    return file


def _sha256(file: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(file, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify(name: str, folder) -> list[str]:
    """The listed files of a dataset that are missing or whose size or sha256 do not match.

    Sizes are always compared; sha256 only for files under 50 MB, to stay fast.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    folder : str or path-like
        The dataset folder, e.g. from :func:`resolve`.

    Returns
    -------
    list of str
        The relative names of the files that fail; empty when all match.

    Examples
    --------
    >>> from deepzoo.data.registry import locate, verify
    >>> folder, where = locate("churn")
    >>> folder is None or verify("churn", folder) == []
    True
    """
    dataset = _get(name)
    folder = Path(folder)
    bad = []
    for entry in dataset.files:
        file = folder / entry.name
        if not file.is_file():
            bad.append(entry.name)
            continue
        size = file.stat().st_size
        if entry.size is not None and size != entry.size:
            bad.append(entry.name)
        elif entry.sha256 is not None and size < _HASH_LIMIT and _sha256(file) != entry.sha256:
            bad.append(entry.name)
    return bad
