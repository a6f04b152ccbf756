"""Fine-tuning the last blocks on cached activations: what trains, what stays, the cache computed once,
the rates per layer, the time estimate, and the estimator's contract (clone, pickle, save and load)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

import deepzoo
from deepzoo import ConvNetClassifier
from deepzoo.engine.training import cosine_schedule, fit_loop
from deepzoo.models.vision import fine_tune
from deepzoo.models.vision.architectures import MBConvNet, build_network, pretrained_path

# EfficientNet-Lite0 on 16 images of 32 px: a few seconds each idle, tens of seconds on the loaded CPU
pytestmark = [pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"), pytest.mark.slow]


def _photos(n=16, side=32):
    """Noisy RGB images whose class is a bright red (class 1) or a dull one (class 0)."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 120, (n, 3, side, side), dtype=np.uint8)
    y = np.arange(n) % 2
    X[y == 1, 0] = 240
    return X, y


def _tuned(**params):
    settings = dict(pretrained=True, freeze="backbone", fine_tune_iter=2, fine_tune_blocks=5, max_iter=2,
                    batch_size=8, fine_tune_learning_rate=1e-3, random_state=0, device="cpu")  # fmt: skip
    return ConvNetClassifier("efficientnet_lite0", **{**settings, **params})


@pytest.fixture(scope="module")
def tuned():
    X, y = _photos()
    return _tuned().fit(X, y), X, y


def test_only_the_last_blocks_change_and_the_history_has_both_stages(tuned):
    clf, _, _ = tuned
    reference = torch.load(pretrained_path("efficientnet_lite0"), map_location="cpu", weights_only=True)
    state = clf.module_.state_dict()
    # 16 blocks: the last 5 (11..15) and the head convolution train; blocks 0..10 and the stem stay as loaded
    for key in ("_conv_stem.weight", "_blocks.10._project_conv.weight", "_blocks.10._bn2.running_mean"):
        torch.testing.assert_close(state[key], reference[key])
    for key in ("_blocks.11._project_conv.weight", "_blocks.15._expand_conv.weight", "_conv_head.weight"):
        assert not torch.equal(state[key], reference[key]), key
    assert clf.n_iter_ == 4 and len(clf.history_["loss"]) == 4  # 2 epochs of the head, 2 fine-tuning


def test_the_bottom_runs_once_per_view_not_per_epoch(monkeypatch):
    calls = []
    bottom = MBConvNet.bottom

    def counted(self, x, n_top):
        calls.append(len(x))
        return bottom(self, x, n_top)

    monkeypatch.setattr(MBConvNet, "bottom", counted)
    X, y = _photos()
    _tuned(fine_tune_iter=3, cache_views=3).fit(X, y)
    # one chunk of 16 images, three views of it, whatever the number of epochs
    assert calls == [16, 16, 16]


def test_returned_features_are_those_of_the_fine_tuned_network(tuned):
    clf, X, y = tuned
    features = clone(clf).fit_features(X, y)
    # the cache holds float16: its features differ from a float32 pass by rounding only
    np.testing.assert_allclose(features, clf.features(X), atol=0.05)


def test_clone_pickle_save_load_and_predict_after_load(tuned, tmp_path):
    clf, X, _ = tuned
    assert clone(clf).get_params() == clf.get_params()
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(clf)).predict_proba(X), proba)
    deepzoo.save(clf, tmp_path / "model")
    loaded = deepzoo.load(tmp_path / "model")
    assert loaded.fine_tune_blocks == 5
    np.testing.assert_allclose(loaded.predict_proba(X), proba, atol=1e-6)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_learns_an_easy_problem_above_chance():
    X, y = _photos(n=32, side=64)  # at 32 px the last blocks see 1x1 maps: too little to go on
    clf = _tuned(fine_tune_iter=4, max_iter=10).fit(X[:16], y[:16])
    # red against dull photos: the frozen ImageNet features already split them; chance is 0.5
    assert clf.score(X[16:], y[16:]) >= 0.8


def test_rates_fall_from_the_last_layer_to_the_lowest_block():
    net = build_network("efficientnet_lite0", (3, 32, 32), 2)
    top = fine_tune.CachedTop(net, 5)
    optimizer = fine_tune.layer_optimizer(top, 1e-3, 0.1, weight_decay=1e-4)
    scales = [group["lr_scale"] for group in optimizer.param_groups]
    assert scales[0] == pytest.approx(0.1) and scales[-1] == pytest.approx(1.0)
    assert scales == sorted(scales)
    # fit_loop's cosine schedule keeps each group's share of the rate
    with torch.no_grad():
        X = net.bottom(torch.randn(8, 3, 32, 32), 5)[:, None]  # one cached view
    y = torch.tensor([0, 1] * 4)
    loss = lambda out, t: torch.nn.functional.cross_entropy(out, t, reduction="none")  # noqa: E731
    fit_loop(top, loss, X, y, optimizer=optimizer, max_iter=2, batch_size=4,
             lr_schedule=cosine_schedule(1e-3, 4), warn_on_max_iter=False)  # fmt: skip
    rates = [group["lr"] / group["lr_scale"] for group in optimizer.param_groups]
    np.testing.assert_allclose(rates, cosine_schedule(1e-3, 4)(1))


def test_candidates_are_whole_stages_and_the_estimate_grows_with_depth():
    net = build_network("efficientnet_lite0", (3, 32, 32), 2)
    # EfficientNet-Lite0's stages have 1, 2, 2, 3, 3, 4 and 1 blocks
    assert fine_tune.top_candidates(net) == (1, 5, 8, 11)
    seconds = fine_tune.fine_tune_seconds(net, (3, 32, 32), 1000, (0, 1, 5, 8), epochs=4, views=2)
    assert set(seconds) == {0, 1, 5, 8} and all(v > 0 for v in seconds.values())
    # each deeper candidate adds blocks to what trains each epoch (3 passes) and removes them from the
    # cached views (2 passes), and the caching pass (views=2) costs more than the frozen head's one
    assert seconds[0] < seconds[1] < seconds[5] < seconds[8]


def test_bad_settings_say_what_to_change():
    X, y = _photos(n=4)
    with pytest.raises(ValueError, match="fine_tune_blocks fine-tunes the last blocks of efficientnet_lite0"):
        ConvNetClassifier("lenet5", fine_tune_blocks=2).fit(X, y)
    with pytest.raises(ValueError, match="needs freeze='backbone'"):
        ConvNetClassifier("efficientnet_lite0", pretrained=True, fine_tune_blocks=2).fit(X, y)
    with pytest.raises(ValueError, match="'layer_lr_decay' parameter"):
        _tuned(layer_lr_decay=0.0).fit(X, y)
