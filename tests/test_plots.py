"""deepzoo.plots: every function returns the Axes it drew on, with the expected artists, and no pyplot."""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from deepzoo import plots  # noqa: E402

HISTORY = {"loss": [0.9, 0.6, 0.5, 0.45], "val_loss": [1.0, 0.7, 0.65, 0.7]}


@pytest.fixture
def binary():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    scores = np.clip(0.3 * y + rng.normal(0.35, 0.2, 200), 0, 1)
    return y, scores


class FittedLike:
    """What plot_loss reads from a fitted MLPClassifier: history_ and best_epoch_ (0-based)."""

    def __init__(self, history, best_epoch=None):
        self.history_ = history
        self.best_epoch_ = best_epoch


def test_plot_loss_from_dict_draws_one_line_per_key():
    ax = plots.plot_loss(HISTORY)
    assert isinstance(ax, Axes)
    assert [line.get_label() for line in ax.lines] == ["loss", "val_loss"]
    assert ax.get_xlabel() == "epoch" and ax.get_title(loc="left") == "Learning curves"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3, 4])


def test_plot_loss_from_estimator_marks_best_epoch_and_scores_on_twin_axis():
    history = {**HISTORY, "score": [0.5, 0.7, 0.8, 0.8], "val_score": [0.5, 0.6, 0.7, 0.65]}
    ax = plots.plot_loss(FittedLike(history, best_epoch=2))
    # loss, val_loss, the dashed vertical line and the dot at the best epoch
    assert len(ax.lines) == 4
    dot = ax.lines[-1]
    assert list(dot.get_xdata()) == [3] and list(dot.get_ydata()) == [0.65]
    twins = [other for other in ax.figure.axes if other is not ax]
    assert len(twins) == 1 and len(twins[0].lines) == 2
    labels = twins[0].get_legend().get_texts()
    assert [t.get_text() for t in labels][-1] == "best epoch (3)"


def test_plot_loss_ragged_and_other_keys_and_errors():
    ax = plots.plot_loss({"reward": [1.0, 2.0, 3.0], "epsilon": [1.0, 0.5]})  # no loss: all on one axis
    assert len(ax.lines) == 2 and len(ax.figure.axes) == 1
    with pytest.raises(TypeError, match="fitted estimator"):
        plots.plot_loss(object())
    with pytest.raises(ValueError, match="empty history"):
        plots.plot_loss({"loss": []})


def test_plot_roc_several_models_on_one_axes(binary):
    y, scores = binary
    ax = plots.plot_roc(y, scores, label="A")
    assert len(ax.lines) == 2  # the chance diagonal and the curve
    same = plots.plot_roc(y, 1 - scores, ax=ax, label="B")
    assert same is ax and len(ax.lines) == 3  # the diagonal is not drawn twice
    labels = ax.get_legend_handles_labels()[1]
    assert labels[0] == "chance" and labels[1].startswith("A (AUC = 0.") and labels[2].startswith("B (AUC")


def test_plot_roc_accepts_predict_proba_and_checks_input(binary):
    y, scores = binary
    ax = plots.plot_roc(y, np.column_stack([1 - scores, scores]))
    assert ax.get_legend_handles_labels()[1][1].startswith("AUC = ")
    with pytest.raises(ValueError, match="one score per label"):
        plots.plot_roc(y, scores[:-1])
    with pytest.raises(ValueError, match="binary labels"):
        plots.plot_roc(np.arange(len(scores)) % 3, scores)


def test_plot_precision_recall(binary):
    y, scores = binary
    ax = plots.plot_precision_recall(y, scores, label="A")
    plots.plot_precision_recall(y, scores**2, ax=ax, label="B")
    assert len(ax.lines) == 3
    assert "AP = " in ax.get_legend_handles_labels()[1][1]
    assert ax.lines[0].get_ydata()[0] == pytest.approx(np.mean(y == 1))


def test_plot_confusion_matrix_counts_and_display_names():
    y_true = [0, 0, 1, 1, 1, 0]
    y_pred = [0, 1, 1, 1, 0, 0]
    ax = plots.plot_confusion_matrix(y_true, y_pred, labels=["stays", "leaves"])
    assert [t.get_text() for t in ax.texts] == ["2", "1", "1", "2"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["stays", "leaves"]


def test_plot_confusion_matrix_class_with_no_test_row():
    # a class kept whole in training (too rare to test) has no true row and was never predicted: an
    # empty row and column, not an error (it raised after minutes of training, issue 20)
    ax = plots.plot_confusion_matrix(["a", "b", "b"], ["a", "b", "a"], labels=["a", "b", "rare"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "rare"]
    assert [t.get_text() for t in ax.texts] == ["1", "0", "0", "1", "1", "0", "0", "0", "0"]


def test_plot_confusion_matrix_label_values_and_normalize():
    y_true = ["b", "a", "c", "a"]
    y_pred = ["b", "a", "a", "a"]
    ax = plots.plot_confusion_matrix(y_true, y_pred, labels=["c", "b", "a"], normalize="true")
    assert len(ax.texts) == 9
    assert ax.texts[2].get_text() == "1.00\n(1)"  # true c, predicted a
    with pytest.raises(ValueError, match="'normalize' parameter"):
        plots.plot_confusion_matrix(y_true, y_pred, normalize="rows")
    with pytest.raises(ValueError, match="labels"):
        plots.plot_confusion_matrix(y_true, y_pred, labels=["x", "y"])


def test_plot_score_distribution_per_group(binary):
    _, scores = binary
    groups = np.where(np.arange(len(scores)) % 3 == 0, "France", "Spain")
    ax = plots.plot_score_distribution(scores, groups=groups)
    assert len(ax.patches) == 2
    assert [t.get_text().split(" ")[0] for t in ax.get_legend().get_texts()] == ["France", "Spain"]
    assert len(plots.plot_score_distribution(scores).patches) == 1
    with pytest.raises(ValueError, match="one group per score"):
        plots.plot_score_distribution(scores, groups=groups[:-1])


def test_plot_cv_scores_bars_labels_and_mean():
    scores = [0.85, 0.87, 0.86, 0.84, 0.88]
    ax = plots.plot_cv_scores(scores)
    assert len(ax.containers[0]) == 5 and len(ax.texts) == 5  # one bar and one value label per fold
    assert "0.860 ± 0.014" in ax.get_title(loc="left")
    mean_line = [line for line in ax.lines if line.get_label().startswith("mean")]
    assert mean_line and mean_line[0].get_ydata()[0] == pytest.approx(0.86)


def test_plot_model_comparison_grouped_bars():
    table = {
        "MLP (deepzoo)": {"accuracy": 0.86, "roc_auc": 0.85, "fit_seconds": 3.0},
        "HistGradientBoostingClassifier": {"accuracy": 0.87, "roc_auc": 0.86},
        "LogisticRegression": {"accuracy": 0.81},
    }
    ax = plots.plot_model_comparison(table)
    assert len(ax.patches) == 5  # LogisticRegression has no roc_auc bar
    assert len(ax.texts) == 5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["accuracy", "roc_auc"]
    with pytest.raises(ValueError, match="no model has the metrics"):
        plots.plot_model_comparison(table, metrics=("rmse",))


def test_every_plot_accepts_an_axes_and_leaves_pyplot_alone(binary):
    y, scores = binary
    calls = [
        lambda ax: plots.plot_loss(HISTORY, ax=ax),
        lambda ax: plots.plot_roc(y, scores, ax=ax),
        lambda ax: plots.plot_precision_recall(y, scores, ax=ax),
        lambda ax: plots.plot_confusion_matrix(y, scores > 0.5, ax=ax),
        lambda ax: plots.plot_score_distribution(scores, ax=ax),
        lambda ax: plots.plot_cv_scores([0.8, 0.9], ax=ax),
        lambda ax: plots.plot_model_comparison({"m": {"accuracy": 0.9, "roc_auc": 0.8}}, ax=ax),
    ]
    figure = Figure()
    axes = figure.subplots(1, len(calls))
    for call, ax in zip(calls, axes):
        assert call(ax) is ax
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # another test may have imported it; we must not have opened figures
        assert pyplot.get_fignums() == []


# -- self-organizing maps ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def iris_som():
    from sklearn.datasets import load_iris

    from deepzoo import SelfOrganizingMap

    X, y = load_iris(return_X_y=True)
    maps = {
        t: SelfOrganizingMap((4, 5), topology=t, max_iter=5, random_state=0).fit(X)
        for t in ("rectangular", "hexagonal")
    }
    return X, y, maps


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_umatrix_draws_one_cell_per_unit_and_one_marker_set_per_class(iris_som, topology):
    X, y, maps = iris_som
    ax = plots.plot_umatrix(maps[topology], X, y, labels={0: "setosa"}, highlight=[(0, 0), (1, 2)])
    assert isinstance(ax, Axes) and ax.get_title(loc="left") == "U-matrix"
    cells = ax.collections[0]
    assert len(cells.get_paths()) == 20 and len(cells.get_paths()[0].vertices) >= (
        7 if topology == "hexagonal" else 5
    )
    np.testing.assert_allclose(cells.get_array(), maps[topology].distance_map().ravel())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["setosa (50)", "1 (50)", "2 (50)"]
    assert len(ax.collections) == 1 + 3 + 1  # cells, three classes, the highlighted units


def test_hit_map_writes_the_counts(iris_som):
    X, _, maps = iris_som
    ax = plots.plot_hit_map(maps["rectangular"], X)
    counts = [int(t.get_text()) for t in ax.texts]
    assert counts == maps["rectangular"].activation_response(X).ravel().tolist() and sum(counts) == 150


def test_component_planes_one_plane_per_feature(iris_som):
    _, _, maps = iris_som
    ax = plots.plot_component_planes(maps["hexagonal"], ["a", "b", "c", "d"])
    assert [t.get_text() for t in ax.texts] == ["a", "b", "c", "d"]
    planes = [c for c in ax.collections if len(c.get_paths()) == 20]
    assert len(planes) == 4
    # each plane is its feature's weights scaled to that feature's own range (iris' raw features span
    # 0.1 to 7.9 cm, so unscaled or jointly scaled planes differ); values in [0, 1] computed from the
    # same float32 weights: 1e-6
    weights = maps["hexagonal"].cluster_centers_.astype(float)
    scaled = (weights - weights.min(0)) / (weights.max(0) - weights.min(0))
    for j, plane in enumerate(planes):
        np.testing.assert_allclose(plane.get_array(), scaled[:, j], atol=1e-6)
    with pytest.raises(ValueError, match="got 2 feature names for 4 features"):
        plots.plot_component_planes(maps["hexagonal"], ["a", "b"])


def test_label_map_writes_majority_labels(iris_som):
    X, y, maps = iris_som
    som = maps["rectangular"]
    ax = plots.plot_label_map(som, X, y)
    assert len(ax.texts) == int((som.activation_response(X) > 0).sum())
    assert {t.get_text() for t in ax.texts} <= {"0", "1", "2"}


def test_som_plots_need_a_fitted_map():
    from sklearn.exceptions import NotFittedError

    from deepzoo import SelfOrganizingMap

    with pytest.raises(NotFittedError, match="SelfOrganizingMap instance is not fitted yet"):
        plots.plot_umatrix(SelfOrganizingMap())


def test_conv_filters_drawn_in_colour_or_per_channel_on_one_mosaic():
    from types import SimpleNamespace

    import torch

    from deepzoo.plots import plot_conv_filters

    torch.manual_seed(0)
    rgb = SimpleNamespace(module_=torch.nn.Sequential(torch.nn.Conv2d(3, 6, 5)))
    canvas = np.asarray(plot_conv_filters(rgb).images[0].get_array())
    assert canvas.shape == (2 * 6 - 1, 4 * 6 - 1, 3)  # 6 filters, 4 per row, 5x5 tiles and 1-pixel gaps
    assert np.all(canvas[5, :, :] == 1.0)  # white gap row
    # each tile is its kernel (5, 5, 3) scaled to [0, 1] over its three channels: the last one sits in the
    # second row's second column (the initial weights are within +-0.12, so an unscaled tile differs);
    # float32 weights scaled in float64: 1e-6
    kernel = rgb.module_[0].weight.detach().numpy()[5].transpose(1, 2, 0).astype(float)
    expected = (kernel - kernel.min()) / (kernel.max() - kernel.min())
    np.testing.assert_allclose(canvas[6:11, 6:11], expected, atol=1e-6)
    gray = SimpleNamespace(module_=torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5)))
    tiles = plot_conv_filters(gray).images[0].get_array()
    assert tiles.shape == (11, 23) and tiles.mask[5].all()  # background gap between single-channel tiles
    with pytest.raises(TypeError, match="expects a fitted ConvNetClassifier"):
        plot_conv_filters(object())
