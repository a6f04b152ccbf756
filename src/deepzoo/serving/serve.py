"""The prediction server for a saved model: ``deepzoo serve MODEL_DIR``.

FastAPI + uvicorn, on 127.0.0.1 by default:

* ``GET /health`` -- liveness, never behind the API key;
* ``GET /metadata`` -- model class, input schema, classes, metrics, provenance, fairness (the model card);
* ``POST /predict`` -- JSON rows, one or a batch: ``{"rows": [{"Age": 40, ...}, ...]}`` for tabular
  models fitted on named columns, ``{"rows": [[0.1, 2.3, ...], ...]}`` for models fitted on arrays,
  ``{"rows": ["a text", ...]}`` for token models, ``{"rows": [[[x11, x12], ...], ...]}`` (windows of
  shape (n_timesteps, n_features)) for forecasters of windows; for the models ``deepzoo fit`` saves of
  the other kinds:

  - a series forecaster: ``{"rows": [the recent rows, columns as in the file], "horizon": H}`` ->
    ``{"dates": [...], "predictions": [...], "persistence": [...], "seasonal_persistence": [...]}``,
    the next H steps after the last row and the baselines beside them (as
    ``deepzoo predict --horizon H``);
  - a recommender: ``{"rows": [{"user": u, "item": i}, ...]}`` (the training's column names) ->
    ``predictions`` and ``cold_start`` (an id unseen in training: the bias model answered); an RBM
    adds ``liked``;
  - clusters (a self-organizing map): table rows -> ``predictions`` (the cluster, i.e. the best unit)
    and ``anomaly_scores`` (the distance to it);
* ``GET /recommend/{user}?k=10`` -- a recommender's top-k items the user did not rate in training;
* ``POST /predict/image`` -- one uploaded image (multipart field ``file``) for image models (ConvNets);
  a segmenter answers with the pixel count of each class and its mask as a base64 PNG;
* ``POST /predict/mask`` -- one uploaded image for segmenters: the mask itself as a PNG (each pixel's
  value is its class id, a palette colours them), the pixel counts in the ``X-Pixel-Counts`` header;
* ``GET /`` -- a page with a form for one customer (or an image upload) showing the prediction;
* ``GET /docs``, ``GET /openapi.json`` -- the OpenAPI schema, with the request model built from the
  model's own input schema.

Each field is validated by pydantic against the schema read from the fitted model: a missing or extra
field, a wrong type, NaN or infinity, an unknown category or a string over ``max_string_length`` is a
422 answer naming the field. Bodies over ``max_body_bytes`` are refused with 413 from their
``Content-Length`` (or, when streamed, as soon as the limit is passed), without reading the rest.
With an API key (``--api-key`` or ``$DEEPZOO_API_KEY``) every route but ``/health`` answers 401
unless the request carries the key in the ``X-API-Key`` header (or ``?api_key=`` for the page).

Models are read only through :func:`deepzoo.load` (JSON + safetensors + skops, never pickle).

Speed (figures in benchmarks/RESULTS.md): concurrent requests are answered from one model call
(requests waiting while the model runs are gathered into the next batch); the usual fitted encoders
and scalers of a tabular Pipeline run as NumPy arithmetic checked against scikit-learn at start-up;
``POST /predict`` is answered in the ASGI layer below FastAPI (which still documents it), its body
validated from the JSON bytes by pydantic-core.
"""

import asyncio
import hmac
import io
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd

__all__ = ["Limits", "create_app", "serve"]

API_KEY_ENV = "DEEPZOO_API_KEY"
PAGE = Path(__file__).with_name("serve_page.html")


class Limits:
    """Size limits of the server (bytes, rows, characters); the defaults suit tabular models."""

    def __init__(
        self,
        max_body_bytes: int = 8 * 1024 * 1024,
        max_batch_rows: int = 10_000,
        max_string_length: int = 200,
        max_image_pixels: int = 4096 * 4096,
        max_text_length: int = 20_000,
        max_horizon: int = 1_000,
    ):
        self.max_body_bytes = int(max_body_bytes)
        self.max_batch_rows = int(max_batch_rows)
        self.max_string_length = int(max_string_length)
        self.max_image_pixels = int(max_image_pixels)
        self.max_text_length = int(max_text_length)
        self.max_horizon = int(max_horizon)

    def as_dict(self) -> dict:
        return dict(vars(self))


# -- a NumPy fast path for the usual tabular preprocessing ------------------------------------------
# scikit-learn's ColumnTransformer costs milliseconds per call whatever the number of rows (pandas
# column selection, joblib dispatch); a server answering single rows pays that on every batch. The
# fitted encoders of a typical Pipeline are tiny tables, so the same arithmetic in NumPy is computed here
# and checked against scikit-learn at start-up; any other transformer, or any disagreement, keeps the
# scikit-learn path.
def _compile(step, frame_level: bool):
    """A function computing ``step.transform``: of a {column: array} dict when ``frame_level``, else of
    a float matrix; None when the step is not one this fast path knows."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import (
        Binarizer,
        FunctionTransformer,
        OneHotEncoder,
        OrdinalEncoder,
        StandardScaler,
    )

    if isinstance(step, ColumnTransformer):
        if not frame_level:
            return None
        parts = []
        for _, transformer, columns in step.transformers_:
            if isinstance(transformer, str) and transformer == "drop":
                continue
            if not isinstance(columns, (list, tuple)) or not all(isinstance(c, str) for c in columns):
                return None
            columns = list(columns)
            if isinstance(transformer, str) and transformer == "passthrough":
                parts.append(
                    lambda cols, names=columns: np.column_stack([cols[n] for n in names]).astype(float)
                )
                continue
            if isinstance(transformer, ColumnTransformer):
                inner = _compile(transformer, frame_level=True)
                if inner is None:
                    return None
                parts.append(lambda cols, f=inner, names=columns: f({n: cols[n] for n in names}))
                continue
            leaf = _compile(transformer, frame_level=False)
            if leaf is None:
                return None
            parts.append(lambda cols, f=leaf, names=columns: f(np.column_stack([cols[n] for n in names])))
        return lambda cols: np.hstack([part(cols) for part in parts]) if parts else None
    if isinstance(step, OneHotEncoder):
        if step.drop is not None or getattr(step, "infrequent_categories_", None) is not None:
            return None
        if step.handle_unknown != "ignore" or getattr(step, "sparse_output", True):
            return None
        categories = [np.asarray(c, dtype=object) for c in step.categories_]
        return lambda X: np.hstack(
            [(X[:, [j]] == cats[None, :]).astype(float) for j, cats in enumerate(categories)]
        )
    if isinstance(step, OrdinalEncoder):
        if step.handle_unknown != "use_encoded_value":
            return None
        tables = [{v: float(i) for i, v in enumerate(c)} for c in step.categories_]
        unknown = float(step.unknown_value)
        return lambda X: np.column_stack(
            [[table.get(v, unknown) for v in X[:, j]] for j, table in enumerate(tables)]
        ).astype(float)
    if isinstance(step, FunctionTransformer) and step.func is None:  # how a fitted 'passthrough' looks
        return lambda X: X.astype(float)
    if isinstance(step, Binarizer):
        return lambda X: (X.astype(float) > step.threshold).astype(float)
    if isinstance(step, StandardScaler):
        mean = step.mean_ if step.with_mean else 0.0
        scale = step.scale_ if step.with_std else 1.0
        return lambda X: (X.astype(float) - mean) / scale
    return None


def _fast_preprocessing(model, schema: list[dict]):
    """The Pipeline's steps before its estimator as one NumPy function of {column: array}, verified
    against scikit-learn on rows made from the schema; None when that is not possible."""
    if not hasattr(model, "steps") or len(model.steps) < 2 or not schema:
        return None
    functions = [_compile(model.steps[0][1], frame_level=True)]
    functions += [_compile(step, frame_level=False) for _, step in model.steps[1:-1]]
    if any(f is None for f in functions):
        return None

    def transform(cols: dict) -> np.ndarray:
        X = functions[0](cols)
        for f in functions[1:]:
            X = f(X)
        return X

    rng = np.random.default_rng(0)
    probe = {}
    for column in schema:  # every category several times, numbers over several scales
        if column["kind"] == "category":
            probe[column["name"]] = np.asarray(column["categories"], dtype=object)[
                np.arange(64) % len(column["categories"])
            ]
        else:
            probe[column["name"]] = np.round(rng.normal(size=64) * 10.0 ** rng.integers(0, 5, 64), 2)
    try:
        expected = np.asarray(model[:-1].transform(pd.DataFrame(probe)), dtype=float)
        got = transform(
            {k: np.asarray(v, dtype=object) if v.dtype == object else v for k, v in probe.items()}
        )
    except Exception:  # any surprise: keep scikit-learn's path
        return None
    # float64 throughout and the same elementwise operations as scikit-learn's (one-hot, lookups,
    # (x - mean) / scale), each correctly rounded on any CPU: equal to the last bit in practice. 1e-12
    # (relative, and absolute near 0) still admits an algebraically equal form (x * (1 / scale): a few
    # 1e-16), while a wrong column, category or scaler is off by far more
    if got is None or got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-12, atol=1e-12):
        return None
    return transform


# -- the model behind the server ------------------------------------------------------------------
class _Model:
    """A loaded model, its input schema and a thread-safe batch prediction."""

    def __init__(self, model_dir, device: str | None = None):
        from ..engine.model_card import describe_inputs, input_kind, read_card
        from ..engine.persistence import load

        folder = Path(model_dir)
        if not folder.is_dir():
            raise FileNotFoundError(
                f"No saved model at {folder}: expected a folder written by deepzoo.save "
                "(e.g. runs/churn/model)."
            )
        self.folder = folder
        self.model = load(folder, device=device or "cpu")
        self.card = read_card(folder)
        self.final = self.model.steps[-1][1] if hasattr(self.model, "steps") else self.model
        self.classes = getattr(self.final, "classes_", None)
        self.has_proba = self.classes is not None and hasattr(self.model, "predict_proba")
        raw_shape = getattr(self.final, "raw_shape_", None)
        self.image_shape = tuple(int(v) for v in raw_shape) if raw_shape is not None else None
        schema = describe_inputs(self.model)
        self.named = (
            schema
            and getattr(
                self.model.steps[0][1] if hasattr(self.model, "steps") else self.model,
                "feature_names_in_",
                None,
            )
            is not None
        )
        # the kinds whose answer is not one prediction per row of the model's predict
        self.task = _task_of(self.final)  # 'series', 'pairs', 'clusters' or None
        if self.task in ("series", "pairs"):
            schema, self.named = _own_schema(self.final), True
        self.schema = schema
        self.columns = [c["name"] for c in schema]
        self.numeric = [c["name"] for c in schema if c["kind"] == "number"]
        self.fast = _fast_preprocessing(self.model, schema) if self.named else None
        # what the task kind that saved it declared (deepzoo fit writes it to the card), else the model's tags
        kind = self.card.get("input_kind") or input_kind(self.model)
        self.kind = "array" if kind == "rows" and not self.named else kind
        if self.task in ("series", "pairs"):
            self.kind = self.task
        from ..models.vision.segmentation import ConvNetSegmenter

        self.masks = isinstance(self.final, ConvNetSegmenter)  # a class per pixel, not per image

    def predict(self, rows) -> dict:
        """Predictions (and probabilities) of a list of validated rows."""
        if self.fast is not None:
            cols = {}
            for column in self.schema:
                values = [row[column["name"]] for row in rows]
                kind = object if column["kind"] == "category" else float
                cols[column["name"]] = np.asarray(values, dtype=kind)
            return self._answer(self.fast(cols), self.final)
        if self.named:
            frame = pd.DataFrame.from_records(rows, columns=self.columns)
            if self.numeric:
                frame[self.numeric] = frame[self.numeric].astype(float)
            X = frame
        elif self.kind == "text":
            X = list(rows)
        else:
            X = np.asarray(rows, dtype=np.float32)  # ragged windows: NumPy's ValueError, a 422
        return self._answer(X)

    def predict_images(self, images: np.ndarray) -> dict:
        return self._answer(images)

    def forecast(self, rows: list, horizon: int) -> dict:
        """A series forecaster's next ``horizon`` steps after the rows (one series per request)."""
        frame = pd.DataFrame.from_records(rows, columns=self.columns)
        if self.numeric:
            frame[self.numeric] = frame[self.numeric].astype(float)
        final = self.final
        if len(final.features):
            raise ValueError(
                f"this forecaster also reads {', '.join(final.features)}, whose future values are unknown, "
                "so it cannot roll forward; refit it without them (deepzoo fit --drop) to serve horizons."
            )
        ahead = final.forecast_with_baselines(frame, horizon)
        return {
            "dates": ahead[final.date].tolist(),
            "predictions": ahead["prediction"].tolist(),
            **{name: ahead[name].tolist() for name in ahead.columns[2:]},
        }

    def recommend(self, user, k: int) -> dict:
        """A recommender's ``k`` best-scored items that ``user`` did not rate in training."""
        import warnings

        from ..models.recommend import ColdStartWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ColdStartWarning)
            table = self.final.recommend(user, k)
        return {
            "user": user.item() if isinstance(user, np.generic) else user,
            "items": _plain_list(table["item"].to_numpy()),
            "scores": table["score"].astype(float).tolist(),
            "cold_start": any(issubclass(w.category, ColdStartWarning) for w in caught),
        }

    def predict_mask(self, images: np.ndarray) -> tuple[np.ndarray, dict]:
        """A segmenter's mask (height, width) of one image (1, C, H, W), and each class's pixel count."""
        mask = np.asarray(self.model.predict(images))[0]
        ids, counts = np.unique(mask, return_counts=True)
        found = dict(zip(ids.tolist(), counts.tolist()))
        return mask, {str(c): int(found.get(c, 0)) for c in np.asarray(self.classes).tolist()}

    def _answer(self, X, model=None) -> dict:
        if self.task == "clusters":  # the best unit and the distance to it, as deepzoo predict gives
            encoded = X if model is self.final else self.model[:-1].transform(X)
            return {
                "predictions": _plain_list(np.asarray(self.final.predict(encoded))),
                "anomaly_scores": np.asarray(self.final.outlier_scores(encoded), dtype=float).tolist(),
            }
        if self.task == "pairs":
            return self._pairs(X)
        model = self.model if model is None else model
        if self.has_proba:
            proba = np.asarray(model.predict_proba(X), dtype=float)
            labels = np.asarray(self.classes)[proba.argmax(axis=1)]
            return {"predictions": _plain_list(labels), "probabilities": proba.round(6).tolist()}
        return {"predictions": _plain_list(np.asarray(model.predict(X)))}

    def _pairs(self, frame: pd.DataFrame) -> dict:
        """A recommender's score of each (user, item) row; ids unseen in training are flagged."""
        import warnings

        from ..models.recommend import ColdStartWarning, RBMRecommender

        users, items = frame.iloc[:, 0].to_numpy(), frame.iloc[:, 1].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ColdStartWarning)  # said per row in cold_start instead
            pred = np.asarray(self.final.predict(users, items), dtype=float)
        known = np.isin(users, self.final.users_) & np.isin(items, self.final.items_)
        answer = {"predictions": pred.tolist(), "cold_start": (~known).tolist()}
        if isinstance(self.final, RBMRecommender):
            answer["liked"] = (pred >= 0.5).tolist()
        return answer

    def metadata(self, limits: Limits) -> dict:
        card = {k: v for k, v in self.card.items() if k not in ("checksums",)}
        kind = self.kind
        return {
            "model_class": type(self.model).__name__,
            "estimator": type(self.final).__name__,
            "input": {
                "kind": kind,
                "columns": self.schema if kind in ("rows", "series", "pairs") else None,
                "n_features": len(self.schema) if kind == "array" else None,
                "image_shape": list(self.image_shape) if self.image_shape else None,
            },
            "classes": _plain_list(np.asarray(self.classes)) if self.classes is not None else None,
            "metrics": card.get("metrics") or {},
            "data_provenance": card.get("data"),
            "predicts": card.get("predicts"),
            "target": card.get("target"),
            "intended_use": card.get("intended_use"),
            "limitations": card.get("limitations"),
            "fairness": card.get("fairness"),
            "model_card": _read_text(self.folder / "MODEL_CARD.md"),
            "checksums": self.card.get("checksums"),
            "limits": limits.as_dict(),
        }


def _task_of(final) -> str | None:
    """'series' (a dated-table forecaster), 'pairs' (a recommender), 'clusters' (a self-organizing
    map), or None for models that answer one prediction per row."""
    from ..models.recommend import AutoEncoderRecommender, BiasRecommender, RBMRecommender
    from ..models.sequence.forecasting import SeriesForecaster
    from ..models.som import SelfOrganizingMap

    if isinstance(final, SeriesForecaster):
        return "series"
    if isinstance(final, (AutoEncoderRecommender, RBMRecommender, BiasRecommender)):
        return "pairs"
    if isinstance(final, SelfOrganizingMap):
        return "clusters"
    return None


def _own_schema(final) -> list[dict]:
    """The request's columns for a forecaster (its date, target and other columns) or a recommender
    (its user and item columns, ids of the training's type)."""
    if hasattr(final, "users_"):
        names = [str(n) for n in getattr(final, "feature_names_in_", ("user", "item"))]

        def id_type(known: np.ndarray) -> str:
            if np.issubdtype(known.dtype, np.integer):
                return "integer"
            return "number" if np.issubdtype(known.dtype, np.floating) else "text"

        return [
            {"name": names[0], "kind": "id", "ids": id_type(final.users_)},
            {"name": names[1], "kind": "id", "ids": id_type(final.items_)},
        ]
    return [
        {"name": final.date, "kind": "date"},
        *({"name": c, "kind": "number", "nullable": True} for c in (final.target, *final.features)),
    ]


def _plain_list(values: np.ndarray) -> list:
    return [v.item() if isinstance(v, np.generic) else v for v in values.tolist()]


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


# -- request models built from the schema -----------------------------------------------------------
def _number_or_blank(value):
    """A number cell as a file would hold it: numbers pass, text is read like read_table reads it
    (thousands separators, a currency sign; blank or a missing token is None); other text is refused."""
    if not isinstance(value, str):
        return value
    from ..data.tabular import MISSING_TOKENS, parse_numbers

    if value.strip().lower() in MISSING_TOKENS:
        return None
    number = parse_numbers(pd.Series([value], dtype=object)).iloc[0]
    if not np.isfinite(number):
        raise ValueError(f"{value!r} is not a number")
    return float(number)


def _request_model(served: _Model, limits: Limits):
    """The pydantic body of POST /predict for this model."""
    from pydantic import (
        BaseModel,
        BeforeValidator,
        ConfigDict,
        Field,
        StringConstraints,
        TypeAdapter,
        create_model,
    )
    from typing_extensions import TypedDict

    finite = Annotated[float, Field(allow_inf_nan=False)]
    if served.named:
        fields: dict[str, Any] = {}
        for column in served.schema:
            text = Annotated[str, StringConstraints(max_length=limits.max_string_length)]
            if column["kind"] == "id":  # a user or item id, of the training ids' type
                kind = {"integer": int, "number": finite}.get(column["ids"], text)
            elif column.get("open") or column["kind"] in ("date", "text"):
                # a TableEncoder's categories take unseen values (they count as 'other'), dates and texts
                # are parsed by the model; a missing value is null
                kind = text | None
            elif column["kind"] == "number" and column.get("nullable"):
                # as in a file: a number, a number as text ("1,234.50"), or blank / null for missing
                kind = Annotated[finite | None, BeforeValidator(_number_or_blank)]
            elif column["kind"] in ("category", "binary") and column.get("categories"):
                categories = tuple(column["categories"])
                if all(isinstance(c, str) for c in categories):
                    kind = Annotated[
                        Literal[categories],  # type: ignore[valid-type]
                        StringConstraints(max_length=limits.max_string_length),
                    ]
                else:  # numeric categories (e.g. 0/1 codes) are numbers
                    kind = Literal[categories]  # type: ignore[valid-type]
                if column["kind"] == "binary":
                    kind = kind | None
            else:
                kind = finite
            fields[column["name"]] = (kind, ...)
        row = create_model(
            "Row", __config__=ConfigDict(extra="forbid", str_max_length=limits.max_string_length), **fields
        )
    elif served.kind == "text":  # one raw text per row
        row = Annotated[str, StringConstraints(min_length=1, max_length=limits.max_text_length)]
    elif served.kind in ("windows", "image"):  # (n_timesteps, n_features) numbers; the model checks the shape
        row = Annotated[list[Annotated[list[finite], Field(min_length=1)]], Field(min_length=1)]
    else:
        n = len(served.schema)
        row = Annotated[list[finite], Field(min_length=n, max_length=n)]

    # a forecaster takes one series (its recent rows) and how many steps ahead to forecast
    steps = Annotated[int, Field(ge=1, le=limits.max_horizon)]

    class PredictRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        rows: Annotated[list[row], Field(min_length=1, max_length=limits.max_batch_rows)]  # type: ignore[valid-type]

    if served.kind == "series":
        PredictRequest = create_model("PredictRequest", __base__=PredictRequest, horizon=(steps, 1))

    # the same checks as TypedDicts, validated straight from the JSON bytes by pydantic-core: rows come
    # out as plain dicts, without the model objects and model_dump of the documented class
    if served.named:
        row_dict = TypedDict("Row", {name: kind for name, (kind, _) in fields.items()})  # type: ignore[misc]
        row_dict.__pydantic_config__ = ConfigDict(extra="forbid", str_max_length=limits.max_string_length)
    else:
        row_dict = row

    class PredictBody(TypedDict):
        rows: Annotated[list[row_dict], Field(min_length=1, max_length=limits.max_batch_rows)]  # type: ignore[valid-type]

    if served.kind == "series":

        class PredictBody(PredictBody, total=False):  # noqa: F811 (the same body, and the horizon)
            horizon: steps  # type: ignore[valid-type]

    PredictBody.__pydantic_config__ = ConfigDict(extra="forbid")
    return PredictRequest, TypeAdapter(PredictBody)


# -- batching concurrent requests into one model call ----------------------------------------------
class _Batcher:
    """Requests that arrive while the model is busy are answered together by its next call."""

    def __init__(self, served: _Model, max_rows: int):
        self.served = served
        self.max_rows = max_rows
        self.queue: asyncio.Queue | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deepzoo-predict")
        self.task = None

    def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def predict(self, rows: list) -> dict:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((rows, future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            items = [await self.queue.get()]
            n = len(items[0][0])
            while n < self.max_rows and not self.queue.empty():
                items.append(self.queue.get_nowait())
                n += len(items[-1][0])
            rows = [row for item_rows, _ in items for row in item_rows]
            try:
                answer = await loop.run_in_executor(self.executor, self.served.predict, rows)
            except Exception:
                # one bad request must not fail its neighbours: answer each on its own
                for item_rows, future in items:
                    try:
                        result = await loop.run_in_executor(self.executor, self.served.predict, item_rows)
                        _settle(future, result=result)
                    except Exception as exc:  # reported to that request only
                        _settle(future, error=exc)
                continue
            start = 0
            for item_rows, future in items:
                stop = start + len(item_rows)
                _settle(future, result={key: value[start:stop] for key, value in answer.items()})
                start = stop


def _settle(future, result=None, error=None) -> None:
    if future.done():  # the client went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


# -- body size and API key, checked before any body is read -----------------------------------------
class _Guard:
    """ASGI middleware: 401 without the right API key (all routes but /health), 413 for bodies over the
    limit, from Content-Length or while the body streams in."""

    def __init__(self, app, api_key: str | None, max_body_bytes: int, predict=None):
        self.app = app
        self.api_key = api_key.encode() if api_key else None
        self.max_body_bytes = max_body_bytes
        # POST /predict, the hot path, is answered here without FastAPI's routing and middleware
        # layers (about half the server's CPU per single-row request); FastAPI documents it
        self.predict = predict

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self.api_key is not None and scope["path"] != "/health" and not self._authorised(scope, headers):
            return await _send_json(
                send,
                401,
                {"detail": "Missing or wrong API key: send it in the X-API-Key header."},
                extra=[(b"www-authenticate", b"X-API-Key")],
            )
        length = headers.get(b"content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                return await _send_json(send, 400, {"detail": "Content-Length is not a number."})
            if size > self.max_body_bytes:
                return await _send_json(send, 413, _too_large(size, self.max_body_bytes), extra=_CLOSE)
        received = 0
        started = refused = False

        async def counted_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # answer now and tell the app the client left: the rest is never read
                    if not started:
                        await _send_json(send, 413, _too_large(None, self.max_body_bytes), extra=_CLOSE)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message):
            nonlocal started
            if refused:
                return  # the 413 answer has been sent; what the app says after is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        if self.predict is not None and scope["method"] == "POST" and scope["path"] == "/predict":
            chunks, more = [], True
            while more:
                message = await counted_receive()
                if message["type"] == "http.disconnect":
                    return  # the client left, or the 413 answer has been sent
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            status, data = await self.predict(b"".join(chunks))
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return
        try:
            await self.app(scope, counted_receive, tracked_send)
        except Exception:
            if not refused:
                raise

    def _authorised(self, scope, headers) -> bool:
        given = headers.get(b"x-api-key")
        if given is None:
            from urllib.parse import parse_qs

            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = query.get("api_key", [""])[0].encode()
        return hmac.compare_digest(given, self.api_key)


# close the connection after a 413: otherwise the server keeps draining the unwanted body
_CLOSE = [(b"connection", b"close")]


def _too_large(size, limit) -> dict:
    got = f"{size:,} bytes" if size is not None else "more than that"
    return {
        "detail": f"Request body too large: the limit is {limit:,} bytes, got {got}. Send fewer rows per "
        "request (split the batch) or start the server with a larger --max-body-bytes."
    }


async def _send_json(send, status: int, body: dict, extra=()) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + list(extra)})
    await send({"type": "http.response.body", "body": data})


# -- the application --------------------------------------------------------------------------------
def create_app(
    model_dir,
    *,
    api_key: str | None = None,
    limits: Limits | None = None,
    prediction_log=None,
    device: str | None = None,
):
    """The FastAPI application serving the model saved in ``model_dir``.

    Parameters
    ----------
    model_dir : str or Path
        A folder written by :func:`deepzoo.save`; read with :func:`deepzoo.load` (checksums verified).
    api_key : str, default=None
        Required on every route but ``/health`` when given; ``$DEEPZOO_API_KEY`` is used when None.
    limits : Limits, default=None
        Body size, batch size, string length and image size limits.
    prediction_log : str or Path, default=None
        Append one JSON line per answered request (time, rows, predictions), written with a single
        ``write`` on an ``O_APPEND`` file before the answer is sent: a killed server leaves only
        whole lines, and every answered request is in it.
    device : str, default=None
        Where the network runs; CPU by default.

    Returns
    -------
    fastapi.FastAPI, wrapped in the size/API-key guard (an ASGI application)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.datasets import make_classification
    >>> from fastapi.testclient import TestClient
    >>> from deepzoo import MLPClassifier, save
    >>> from deepzoo.serving.serve import create_app
    >>> X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=0)
    >>> folder = save(MLPClassifier((4,), max_iter=5).fit(X, y), pathlib.Path(tempfile.mkdtemp()) / "m")
    >>> with TestClient(create_app(folder)) as client:
    ...     client.post("/predict", json={"rows": X[:2].tolist()}).status_code
    200
    """
    from fastapi import FastAPI, File, HTTPException, Request, Response, UploadFile
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.utils import get_openapi
    from fastapi.responses import HTMLResponse
    from pydantic import ValidationError

    limits = limits or Limits()
    api_key = api_key if api_key is not None else (os.environ.get(API_KEY_ENV) or None)
    served = _Model(model_dir, device=device)
    PredictRequest, validate_body = _request_model(served, limits)
    batcher = _Batcher(served, max_rows=max(limits.max_batch_rows, 1))
    log_fd = None
    if prediction_log is not None:
        log_fd = os.open(os.fspath(prediction_log), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await batcher.stop()
        if log_fd is not None:
            os.close(log_fd)

    title = served.card.get("title") or f"deepzoo: {type(served.final).__name__}"
    app = FastAPI(title=title, version="1", lifespan=lifespan, description=served.card.get("predicts") or "")
    metadata = served.metadata(limits)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        return _invalid(exc.errors())

    def log(rows, answer) -> None:
        if log_fd is not None:
            line = json.dumps({"time": time.time(), "rows": rows, **answer}, separators=(",", ":")) + "\n"
            os.write(log_fd, line.encode())

    @app.get("/health")
    async def health() -> dict:
        """Liveness: the model is loaded and the server answers."""
        return {"status": "ok", "model": type(served.final).__name__}

    @app.get("/metadata")
    async def get_metadata() -> dict:
        """Model class, input schema, classes, metrics, data provenance, fairness and the model card."""
        return metadata

    body_schema = PredictRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    body_defs = body_schema.pop("$defs", {})

    @app.post(
        "/predict",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}},
            }
        },
    )
    async def predict(request: Request) -> Response:
        """Predict one row or a batch (body: PredictRequest); classifiers also give each class's
        probability."""
        status, data = await answer_rows(await request.body())
        return Response(data, status_code=status, media_type="application/json")

    async def answer_rows(body: bytes) -> tuple[int, bytes]:
        """Status and JSON answer of POST /predict."""
        if served.image_shape is not None:
            return 415, _dumps({"detail": "This model takes images: POST them to /predict/image as 'file'."})
        try:
            request = validate_body.validate_json(body)
        except ValidationError as exc:
            return 422, _dumps(
                _invalid_payload([{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()])
            )
        rows = request["rows"]
        try:
            if served.kind == "series":  # one series per request: not batched with other requests
                loop = asyncio.get_running_loop()
                horizon = request.get("horizon", 1)
                answer = await loop.run_in_executor(batcher.executor, served.forecast, rows, horizon)
            else:
                answer = await batcher.predict(rows)
        except ValueError as exc:
            return 422, _dumps({"detail": f"The model refused the rows: {exc}"})
        log(rows, answer)
        if served.has_proba:
            answer = {**answer, "classes": metadata["classes"]}
        return 200, _dumps(answer)

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update({"PredictRequest": body_schema, **body_defs})
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi

    async def segment(file) -> tuple[np.ndarray, dict]:
        """A segmenter's mask and pixel counts of one upload, kept at the upload's size."""
        if not served.masks:
            raise HTTPException(
                415, "This model labels whole images, not pixels: POST them to /predict/image."
            )
        images = _image_array(await file.read(), served.image_shape, limits, file.filename, resize=False)
        loop = asyncio.get_running_loop()
        try:
            mask, counts = await loop.run_in_executor(batcher.executor, served.predict_mask, images)
        except ValueError as exc:
            raise HTTPException(422, f"The model refused the image: {exc}") from None
        log([file.filename], {"pixel_counts": counts})
        return mask, counts

    @app.post("/predict/mask", response_class=Response)
    async def predict_mask(file: UploadFile = File(...)) -> Response:  # noqa: B008
        """Segment one uploaded image: the mask as a PNG of the upload's size (pixel value = class id),
        the pixel count of each class in the ``X-Pixel-Counts`` header (JSON)."""
        from ..data.segmentation import mask_to_png

        mask, counts = await segment(file)
        headers = {"X-Pixel-Counts": json.dumps(counts)}
        return Response(mask_to_png(mask), media_type="image/png", headers=headers)

    @app.post("/predict/image")
    async def predict_image(file: UploadFile = File(...)) -> dict:  # noqa: B008
        """Predict the class of one uploaded image (PNG, JPEG, ...); a segmenter answers with each
        class's pixel count and the mask as a base64 PNG (``mask_png``)."""
        if served.image_shape is None:
            raise HTTPException(415, "This model takes rows, not images: POST JSON rows to /predict.")
        if served.masks:
            import base64

            from ..data.segmentation import mask_to_png

            mask, counts = await segment(file)
            return {
                "classes": metadata["classes"],
                "pixel_counts": counts,
                "height": int(mask.shape[0]),
                "width": int(mask.shape[1]),
                "mask_png": base64.b64encode(mask_to_png(mask)).decode("ascii"),
            }
        images = _image_array(await file.read(), served.image_shape, limits, file.filename)
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(batcher.executor, served.predict_images, images)
        except ValueError as exc:
            raise HTTPException(422, f"The model refused the image: {exc}") from None
        log([file.filename], answer)
        return {**answer, "classes": metadata["classes"]} if served.has_proba else answer

    @app.get("/recommend/{user}")
    async def recommend(user: str, k: int = 10) -> dict:
        """A recommender's ``k`` best-scored items that ``user`` did not rate in training (an unknown
        user gets the items with the best bias, and ``cold_start: true``)."""
        if served.task != "pairs":
            raise HTTPException(404, "This model is no recommender: /recommend serves models of ratings.")
        if not 1 <= k <= limits.max_batch_rows:
            raise HTTPException(422, f"k must be between 1 and {limits.max_batch_rows}; got {k}.")
        ids = served.schema[0]["ids"]
        try:
            key = int(user) if ids == "integer" else float(user) if ids == "number" else user
        except ValueError:
            raise HTTPException(422, f"The user ids of this model are {ids} values; got {user!r}.") from None
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(batcher.executor, served.recommend, key, k)
        log([user], answer)
        return answer

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        """A form for one row (or an image upload) that shows the prediction."""
        return PAGE.read_text()

    return _Guard(app, api_key, limits.max_body_bytes, predict=answer_rows)


def _invalid(errors):
    """The 422 answer of FastAPI's own validation (the other routes)."""
    from fastapi.responses import JSONResponse

    return JSONResponse(_invalid_payload(errors), status_code=422)


def _invalid_payload(errors) -> dict:
    """Where and what, for each problem (the offending input is not echoed back: it may be NaN, which
    is not JSON, or megabytes long)."""
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors[:50]
    ]
    where = [".".join(str(p) for p in e["loc"] if p != "body") or "body" for e in errors]
    message = "; ".join(f"{w}: {e['msg']}" for w, e in zip(where[:5], errors[:5]))
    return {"detail": errors, "message": message}


try:  # orjson is optional: the standard library is slower, not different
    from orjson import dumps as _orjson_dumps
except ImportError:
    _orjson_dumps = None


def _dumps(answer: dict) -> bytes:
    if _orjson_dumps is not None:
        return _orjson_dumps(answer)
    return json.dumps(answer, separators=(",", ":")).encode()


def _image_array(data: bytes, shape: tuple, limits: Limits, name, resize: bool = True) -> np.ndarray:
    """One uploaded image as the (1, C, H, W) uint8 array the model takes, or a 415/422 answer; resized
    to ``shape`` unless ``resize`` is False (a segmenter predicts at the image's own size)."""
    from fastapi import HTTPException
    from PIL import Image, UnidentifiedImageError

    channels, height, width = shape
    modes = {1: ("L",), 3: ("RGB",)}.get(channels, ())
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > limits.max_image_pixels:
            raise HTTPException(
                413,
                f"The image has {image.width}x{image.height} pixels; "
                f"the limit is {limits.max_image_pixels:,}.",
            )
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise HTTPException(
            415,
            f"The upload {name!r} is not an image PIL can read ({type(exc).__name__}); send a PNG or JPEG.",
        ) from None
    if image.mode not in modes:
        wanted = " or ".join(repr(m) for m in modes) or f"{channels} channels"
        raise HTTPException(
            422,
            f"The image has mode {image.mode!r} but the model takes {wanted} images "
            f"({channels} channel{'s' if channels > 1 else ''}); convert it first, "
            f"e.g. image.convert({(modes or ('RGB',))[0]!r}).",
        )
    if resize and image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.uint8)
    array = array[None, None] if array.ndim == 2 else array.transpose(2, 0, 1)[None]
    return np.ascontiguousarray(array)


def serve(
    model_dir,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key: str | None = None,
    limits: Limits | None = None,
    prediction_log=None,
    log_level: str = "warning",
    announce=None,
) -> None:
    """Load the model (errors raise before the port opens) and serve it with uvicorn until stopped.

    Examples
    --------
    >>> from deepzoo.serving.serve import serve
    >>> serve("runs/churn/model", port=8000)  # doctest: +SKIP
    """
    import uvicorn

    if not (isinstance(port, int) and 0 <= port <= 65535):
        raise ValueError(f"port must be an int in [0, 65535]; got {port!r}.")
    import torch

    app = create_app(model_dir, api_key=api_key, limits=limits, prediction_log=prediction_log)
    # small batches gain nothing from intra-op threads, and on a busy machine the threads' spinning
    # costs more than it brings; HTTP parsing needs the other core
    torch.set_num_threads(1)
    if announce is not None:
        announce()
    loop = "uvloop" if _importable("uvloop") else "asyncio"
    http = "httptools" if _importable("httptools") else "h11"
    uvicorn.run(app, host=host, port=port, log_level=log_level, loop=loop, http=http, access_log=False)


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
