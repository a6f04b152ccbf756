"""deepzoo.tasks.kinds: the one list of task kinds, and detection, fit and predict reading it."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import deepzoo
from deepzoo.engine import persistence
from deepzoo.tasks import detect as detect_module
from deepzoo.tasks import kinds
from deepzoo.tasks.base import FitConfig, Source, TaskKind
from deepzoo.tasks.detect import detect


def test_each_task_belongs_to_one_kind_and_every_saved_class_is_loadable():
    tasks = [task for kind in kinds.KINDS for task in kind.tasks]
    assert len(tasks) == len(set(tasks)) and kinds.TASKS == ("auto", *tasks)
    assert [kinds.kind_of_task(t).name for t in ("classify", "regress", "forecast", "segment")] == [
        "table",
        "table",
        "series",
        "segmentation",
    ]
    for kind in kinds.KINDS:
        assert kind.serves in ("rows", "text", "image", "windows", "series", "pairs"), kind.name
        for cls in kind.saves:
            assert persistence._REGISTRY[cls.__name__] is cls  # deepzoo.load can rebuild what it saves
    with pytest.raises(ValueError, match="Unknown --task 'clasify'.*Did you mean 'classify'"):
        kinds.kind_of_task("clasify")


def test_a_model_is_predicted_by_the_kind_that_saves_its_class():
    mlp = deepzoo.MLPClassifier((4,), max_iter=1)
    assert kinds.kind_of_model(make_pipeline(StandardScaler(), mlp)).name == "table"
    assert kinds.kind_of_model(deepzoo.SeriesForecaster()).name == "series"
    assert kinds.kind_of_model(deepzoo.SelfOrganizingMap()).name == "clusters"
    assert kinds.kind_of_model(deepzoo.BiasRecommender()).name == "ratings"
    assert kinds.kind_of_model(StandardScaler()).name == "table"  # any other model reads rows


def test_a_new_kind_is_one_declaration_in_the_list(monkeypatch):
    """Detection asks the kinds in the list's order: a kind added in front claims its tables first."""

    def detect_table(probe):
        if "geometry" in probe.frame.columns:
            return Source("shapes", "a geometry column: shapes", frame=probe.frame)
        return None

    shapes = TaskKind(
        name="shapes", tasks=("shapes",), rule="a geometry column", run=None, predict=None, saves=(),
        serves="rows", detect_table=detect_table,
    )  # fmt: skip
    monkeypatch.setattr(detect_module, "KINDS", (shapes, *kinds.KINDS))
    frame = pd.DataFrame({"geometry": ["a", "b"] * 10, "y": [0, 1] * 10})
    assert detect(frame, FitConfig(target="y")).task == "shapes"
    x = np.random.default_rng(0).normal(size=20)
    assert detect(frame.drop(columns="geometry").assign(x=x), FitConfig(target="y")).task == "classify"


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("recommend", "--task recommend needs user, item and rating columns"),
        ("forecast", "--task forecast needs one date column"),
        ("images", "--task images needs a folder of images"),
        ("text", "--task text needs one text column"),
    ],
)
def test_a_kind_asked_for_says_what_the_table_lacks(task, message):
    frame = pd.DataFrame({"a": np.random.default_rng(0).normal(size=20), "y": [0, 1] * 10})
    with pytest.raises(ValueError, match=message):
        detect(frame, FitConfig(target="y", task=task))


def test_fit_writes_the_kind_and_its_server_input_to_the_card(tmp_path):
    frame = pd.DataFrame({"x": np.random.default_rng(0).normal(size=40), "y": [0, 1] * 20})
    outcome = deepzoo.fit(frame, target="y", out=tmp_path, settings={"max_iter": 1}, verbose=False)
    card = json.loads((tmp_path / "model" / "card.json").read_text())
    assert (card["task_kind"], card["input_kind"]) == ("table", "rows")
    assert list(outcome.predict(frame.drop(columns="y").head(3)).columns) == [
        "prediction",
        "proba_0",
        "proba_1",
    ]
