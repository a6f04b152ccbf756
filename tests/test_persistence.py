"""save/load round trips, and loading that refuses anything but data."""

import json
import os
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs, make_moons, make_regression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

import deepzoo
from deepzoo import MLPClassifier, MLPRegressor
from deepzoo.engine import persistence

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def fitted_classifier():
    X, y = make_blobs(120, centers=3, random_state=0)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier((16, 8), max_iter=20, learning_rate=0.01, batch_norm=True, random_state=0)
    return clf.fit(X, labels), X


def test_classifier_round_trip(tmp_path, fitted_classifier):
    clf, X = fitted_classifier
    clf.save(tmp_path / "model")
    loaded = deepzoo.load(tmp_path / "model")
    assert type(loaded) is MLPClassifier
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.classes_.dtype == clf.classes_.dtype  # '<U10' stays a str array
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.history_ == clf.history_ and loaded.n_iter_ == clf.n_iter_
    assert sorted(os.listdir(tmp_path / "model")) == [
        "MODEL_CARD.md",
        "card.json",
        "deepzoo.json",
        "weights.safetensors",
    ]


def test_regressor_round_trip_with_object_labels_and_tuples(tmp_path):
    X, y = make_regression(80, n_features=3, n_targets=2, random_state=0)
    reg = MLPRegressor((8,), max_iter=5, random_state=0, early_stopping=True).fit(X, y)
    deepzoo.save(reg, tmp_path / "reg")
    loaded = deepzoo.load(tmp_path / "reg", device="cpu")
    assert loaded.get_params() == reg.get_params()
    assert loaded.hidden_layer_sizes == (8,)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    assert loaded.best_epoch_ == reg.best_epoch_


def test_object_labels_and_dataframe_feature_names(tmp_path):
    X, y = make_moons(60, random_state=0)
    frame = pd.DataFrame(X, columns=["left", "right"])
    labels = np.array(["no", "yes"], dtype=object)[y]
    clf = MLPClassifier((4,), max_iter=3, random_state=0).fit(frame, labels)
    clf.save(tmp_path / "m")
    loaded = deepzoo.load(tmp_path / "m")
    assert loaded.classes_.dtype == object and loaded.classes_.tolist() == ["no", "yes"]
    assert loaded.feature_names_in_.tolist() == ["left", "right"]
    np.testing.assert_array_equal(loaded.predict(frame), clf.predict(frame))


def test_loaded_model_can_keep_training(tmp_path, fitted_classifier):
    clf, X = fitted_classifier
    clf.save(tmp_path / "model")
    loaded = deepzoo.load(tmp_path / "model").set_params(warm_start=True, max_iter=2)
    loaded.fit(X, clf.predict(X))
    assert loaded.n_iter_ == clf.n_iter_ + 2


def test_saving_again_replaces_the_model(tmp_path, fitted_classifier):
    clf, X = fitted_classifier
    other = MLPClassifier((3,), max_iter=1, random_state=1).fit(X, clf.predict(X))
    other.save(tmp_path / "model")
    clf.save(tmp_path / "model")
    assert deepzoo.load(tmp_path / "model").hidden_layer_sizes == (16, 8)
    assert os.listdir(tmp_path) == ["model"]  # no temporary or old folder left


def test_pipeline_with_column_transformer_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, 200),
            "income": rng.normal(3e4, 1e4, 200),
            "city": rng.choice(["Oslo", "Lyon", "Pune"], 200),
        }
    )
    y = ((frame["age"] > 40) ^ (frame["city"] == "Lyon")).map({True: "churn", False: "stay"}).to_numpy()
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "income"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
        ]
    )
    pipe = Pipeline(
        [("prep", prep), ("clf", MLPClassifier((16,), max_iter=50, learning_rate=0.02, random_state=0))]
    )
    pipe.fit(frame, y)
    deepzoo.save(pipe, tmp_path / "pipe")
    assert sorted(os.listdir(tmp_path / "pipe")) == [
        "MODEL_CARD.md",
        "card.json",
        "clf",
        "deepzoo.json",
        "prep.skops",
    ]
    loaded = deepzoo.load(tmp_path / "pipe")
    assert isinstance(loaded, Pipeline) and [n for n, _ in loaded.steps] == ["prep", "clf"]
    np.testing.assert_array_equal(loaded.predict(frame), pipe.predict(frame))
    np.testing.assert_allclose(loaded.predict_proba(frame), pipe.predict_proba(frame))


def test_pipeline_with_passthrough(tmp_path):
    X, y = make_moons(60, random_state=0)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("skip", "passthrough"),
            ("clf", MLPClassifier((4,), max_iter=2, random_state=0)),
        ]
    ).fit(X, y)
    deepzoo.save(pipe, tmp_path / "p")
    np.testing.assert_array_equal(deepzoo.load(tmp_path / "p").predict(X), pipe.predict(X))


def test_save_refuses_what_it_cannot_save(tmp_path):
    with pytest.raises(TypeError, match="takes a fitted deepzoo estimator or a Pipeline; got StandardScaler"):
        deepzoo.save(StandardScaler(), tmp_path / "x")
    with pytest.raises(Exception, match="not fitted yet"):
        MLPClassifier().save(tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert os.listdir(tmp_path) == []  # the temporary folder is cleaned up too


def test_save_never_replaces_a_folder_that_is_not_a_model(tmp_path, fitted_classifier):
    clf, _ = fitted_classifier
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="is not a saved deepzoo model; refusing to replace it"):
        clf.save(project)
    assert (project / "notes.txt").read_text() == "precious"
    (tmp_path / "empty").mkdir()
    clf.save(tmp_path / "empty")  # an empty folder is fine
    assert (tmp_path / "empty" / "deepzoo.json").is_file()


def test_save_into_an_unwritable_location(tmp_path, fitted_classifier):
    clf, _ = fitted_classifier
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OSError, match="Cannot write the model folder .*a-file is a file, not a folder"):
        clf.save(tmp_path / "a-file" / "model")
    if os.geteuid() != 0:  # root writes anywhere; the permission case needs an ordinary user
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(OSError, match="Cannot write the model folder .*Permission denied"):
            clf.save(locked / "model")


def test_missing_folder_or_description(tmp_path):
    with pytest.raises(FileNotFoundError, match="No saved model at"):
        deepzoo.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="deepzoo.json is missing"):
        deepzoo.load(tmp_path / "empty")


# -- crafted files ------------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path, fitted_classifier):
    clf, _ = fitted_classifier
    clf.save(tmp_path / "model")
    return tmp_path / "model"


def edit_json(folder, change):
    doc = json.loads((folder / "deepzoo.json").read_text())
    change(doc)
    (folder / "deepzoo.json").write_text(json.dumps(doc))


@pytest.mark.parametrize("name", ["os.system", "subprocess.Popen", "builtins.eval", "Pipeline", None, ["x"]])
def test_refuses_a_class_that_is_not_deepzoo(saved, name):
    edit_json(saved, lambda doc: doc.update({"class": name}))
    with pytest.raises(ValueError, match="which is not a deepzoo estimator|Pipeline without a list of steps"):
        deepzoo.load(saved)


def test_refuses_unexpected_attributes_and_parameters(saved):
    original = (saved / "deepzoo.json").read_text()
    edit_json(saved, lambda doc: doc["fitted"]["__dict__"].append(["predict_", 1]))
    with pytest.raises(ValueError, match="unexpected attribute 'predict_'"):
        deepzoo.load(saved)
    (saved / "deepzoo.json").write_text(original)
    edit_json(saved, lambda doc: doc["fitted"]["__dict__"].append(["__class__", "os.system"]))
    with pytest.raises(ValueError, match="unexpected attribute '__class__'"):
        deepzoo.load(saved)
    (saved / "deepzoo.json").write_text(original)
    edit_json(saved, lambda doc: doc["params"]["__dict__"].append(["callback", "os.system"]))
    with pytest.raises(ValueError, match="holds parameters that MLPClassifier does not have"):
        deepzoo.load(saved)


def test_refuses_bad_parameter_values_and_unknown_objects(saved):
    original = (saved / "deepzoo.json").read_text()
    edit_json(saved, lambda doc: doc["params"]["__dict__"].append(["activation", "rlu"]))
    with pytest.raises(ValueError, match="Did you mean 'relu'"):
        deepzoo.load(saved)
    (saved / "deepzoo.json").write_text(original)
    edit_json(saved, lambda doc: doc["fitted"]["__dict__"].append(["classes_", {"py/object": "os.system"}]))
    with pytest.raises(ValueError, match="unexpected object in a deepzoo.json file"):
        deepzoo.load(saved)
    (saved / "deepzoo.json").write_text(original)
    edit_json(
        saved, lambda doc: doc["fitted"]["__dict__"].append(["classes_", {"__ndarray__": [1], "dtype": "O8"}])
    )
    with pytest.raises(ValueError, match="unexpected array"):
        deepzoo.load(saved)
    (saved / "deepzoo.json").write_text("{ not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        deepzoo.load(saved)


def test_refuses_weights_that_do_not_fit(saved):
    edit_json(saved, lambda doc: doc["params"]["__dict__"].append(["hidden_layer_sizes", {"__tuple__": [5]}]))
    with pytest.raises(ValueError, match="do not fit MLPClassifier's network"):
        deepzoo.load(saved)


class _RunsAShellCommand:
    """Unpickling this runs ``touch <marker>``: what a malicious 'weights' file would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_disguised_as_safetensors_is_not_executed(saved, tmp_path):
    marker = tmp_path / "PWNED"
    (saved / "weights.safetensors").write_bytes(pickle.dumps(_RunsAShellCommand(marker)))
    with pytest.raises(ValueError, match="does not match the sha256 recorded"):
        deepzoo.load(saved)
    # an attacker who also strips the recorded checksums still meets the safetensors reader
    edit_json(saved, lambda doc: doc.pop("checksums"))
    with pytest.raises(ValueError, match="is not a readable safetensors file"):
        deepzoo.load(saved)
    assert not marker.exists()
    # the trap is real: unpickling the same bytes does run the command
    pickle.loads(pickle.dumps(_RunsAShellCommand(tmp_path / "proof")))
    assert (tmp_path / "proof").exists()


def test_a_torch_zip_disguised_as_safetensors_is_refused(saved, tmp_path):
    import torch

    marker = tmp_path / "PWNED"
    torch.save({"w": _RunsAShellCommand(marker)}, saved / "weights.safetensors")
    edit_json(saved, lambda doc: doc.pop("checksums"))  # past the sha256 check, to the reader
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        deepzoo.load(saved)
    assert not marker.exists()


def _save_pipeline(tmp_path, step):
    """Save a Pipeline of ``step`` (left unfitted: fitting FunctionTransformer(os.system) would call it)
    and a fitted classifier."""
    X, y = make_moons(40, random_state=0)
    pipe = make_pipeline(step, MLPClassifier((4,), max_iter=1, random_state=0).fit(X, y))
    deepzoo.save(pipe, tmp_path / "pipe")
    return tmp_path / "pipe", pipe.steps[0][0]


class NotSklearn(StandardScaler):
    """A user-defined class: skops can store it, deepzoo must not load it."""


@pytest.mark.parametrize(
    "step, refused",
    [
        (NotSklearn(), "test_persistence.NotSklearn"),
        (FunctionTransformer(func=os.system), "system"),
        (FunctionTransformer(func=eval), "builtins.eval"),
    ],
    ids=["custom-class", "os.system", "eval"],
)
def test_a_skops_step_with_foreign_types_is_refused(tmp_path, step, refused):
    folder, name = _save_pipeline(tmp_path, step)
    with pytest.raises(ValueError, match=f"contains types outside scikit-learn and NumPy: .*{refused}"):
        deepzoo.load(folder)


def test_a_skops_step_with_numpy_functions_loads(tmp_path):
    X, _ = make_moons(40, random_state=0)
    folder, name = _save_pipeline(tmp_path, FunctionTransformer(func=np.tanh, inverse_func=np.arctanh).fit(X))
    loaded = deepzoo.load(folder)
    assert loaded.steps[0][1].func is np.tanh
    assert loaded.predict(X).shape == (40,)


def test_a_damaged_skops_file_or_step_list_is_refused(tmp_path):
    folder, name = _save_pipeline(tmp_path, StandardScaler())
    (folder / f"{name}.skops").write_bytes(pickle.dumps(_RunsAShellCommand(tmp_path / "PWNED")))
    with pytest.raises(ValueError, match="does not match the sha256 recorded"):
        deepzoo.load(folder)
    edit_json(folder, lambda doc: doc.pop("checksums"))  # past the sha256 check, to the skops reader
    with pytest.raises(ValueError, match="is not a readable skops file"):
        deepzoo.load(folder)
    assert not (tmp_path / "PWNED").exists()
    with zipfile.ZipFile(folder / f"{name}.skops", "w") as z:
        z.writestr("schema.json", "{}")
    with pytest.raises(ValueError, match="is not a readable skops file"):
        deepzoo.load(folder)
    for steps in [[{"name": "../evil", "kind": "skops"}], [{"name": "x", "kind": "pickle"}], ["x"], {}]:
        edit_json(folder, lambda doc, steps=steps: doc.update({"steps": steps}))
        with pytest.raises(ValueError, match="unsafe step name|unknown kind|not an object|without a list"):
            deepzoo.load(folder)


def test_a_model_saved_for_a_gpu_loads_on_cpu_when_asked(saved):
    import torch

    edit_json(saved, lambda doc: doc["params"]["__dict__"].append(["device", "cuda"]))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"sees no GPU.*pass deepzoo.load\(path, device='cpu'\)"):
            deepzoo.load(saved)
    loaded = deepzoo.load(saved, device="cpu")
    assert loaded.device == "cuda"  # the setting is kept for the next fit; the network sits on the CPU
    assert next(loaded.module_.parameters()).device.type == "cpu"


def test_other_format_versions_are_refused(saved):
    edit_json(saved, lambda doc: doc.update({"version": 99}))
    with pytest.raises(ValueError, match="format version 99; this deepzoo reads 1"):
        deepzoo.load(saved)
    edit_json(saved, lambda doc: doc.update({"format": "pickle"}))
    with pytest.raises(ValueError, match="is not a deepzoo model description"):
        deepzoo.load(saved)


# -- the JSON encoding ----------------------------------------------------------------------------
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=3) | st.integers(0, 9), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=50, deadline=None)
@given(json_values)
def test_property_encode_decode_round_trip(value):
    text = json.dumps(persistence._encode(value))
    assert persistence._decode(json.loads(text)) == value


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(-1000, 1000), min_size=1, max_size=5),
    st.sampled_from(["int64", "float32", "<U4", "bool"]),
)
def test_property_arrays_keep_dtype_and_values(values, dtype):
    array = np.asarray(values).astype(dtype)
    back = persistence._decode(json.loads(json.dumps(persistence._encode(array))))
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


def test_each_family_registers_its_estimators_and_a_second_class_of_a_name_is_refused():
    import deepzoo as package

    public = {name for name in package.__all__ if isinstance(getattr(package, name), type)}
    assert public <= set(persistence._REGISTRY)  # every public estimator, without a loop in __init__

    class MLPClassifier:  # another class under a registered name: load could not tell them apart
        pass

    with pytest.raises(ValueError, match="Two estimators are named MLPClassifier"):
        persistence.register(MLPClassifier)
    assert persistence._REGISTRY["MLPClassifier"] is package.MLPClassifier
