"""The prediction server as a user meets it: started for real with `deepzoo serve` in a subprocess on a
free loopback port, called over HTTP with httpx; each bad input of the issue; a kill under load; the page
at / driven in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from helpers import free_port
from tabular_model import saved_model

import deepzoo

KEY = "s3cret-key"
ROW = {"Geography": "Germany", "Gender": "Female", "Age": 52, "Balance": 120000.0}


def start_server(model: Path, port: int, *extra: str, env: dict | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "deepzoo", "serve", str(model), "--port", str(port), *extra]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    deadline = time.monotonic() + 120  # a loaded 2-core machine imports torch slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {process.stdout.read().decode()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not answer /health within 120 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    model_dir, frame, model = saved_model(folder, card={"predicts": "whether a customer leaves"})
    port = free_port()
    process = start_server(
        model_dir,
        port,
        "--max-body-bytes",
        "1000000",
        "--max-batch-rows",
        "100",
        env={"DEEPZOO_API_KEY": KEY},
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": KEY}, timeout=30)
    yield {"client": client, "model": model, "frame": frame, "port": port, "model_dir": model_dir}
    client.close()
    stop(process)


def still_up(client) -> None:
    assert client.get("/health").json()["status"] == "ok"


@pytest.mark.slow  # starts a real server process: ~30 s on a busy 2-core machine
def test_health_metadata_and_openapi(server):
    client = server["client"]
    assert httpx.get(f"http://127.0.0.1:{server['port']}/health").status_code == 200  # no key needed
    meta = client.get("/metadata").json()
    assert meta["estimator"] == "MLPClassifier" and meta["classes"] == [0, 1]
    assert meta["input"]["kind"] == "rows"
    columns = {c["name"]: c for c in meta["input"]["columns"]}
    assert columns["Geography"]["categories"] == ["France", "Germany", "Spain"]
    assert columns["Age"]["kind"] == "number"
    assert meta["predicts"] == "whether a customer leaves"
    assert meta["model_card"].startswith("# Model card") and "sha256" in meta["model_card"]
    schema = client.get("/openapi.json").json()
    assert "/predict" in schema["paths"] and "/predict/image" in schema["paths"]
    assert "Germany" in json.dumps(schema["components"])


@pytest.mark.slow  # starts a real server process: ~30 s on a busy 2-core machine
def test_predictions_equal_the_model(server):
    client, model, frame = server["client"], server["model"], server["frame"]
    rows = frame.drop(columns="Exited").head(50)
    answer = client.post("/predict", json={"rows": rows.to_dict("records")})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # the server runs the same float32 network on the same rows and rounds probabilities to 6 decimals
    # (<= 5e-7 off); 1e-6 leaves a float32 rounding step on top (its fast path scales like scikit-learn)
    np.testing.assert_allclose(body["probabilities"], model.predict_proba(rows), atol=1e-6)
    assert body["predictions"] == model.predict(rows).tolist() and body["classes"] == [0, 1]
    one = client.post("/predict", json={"rows": [ROW]}).json()
    np.testing.assert_allclose(
        one["probabilities"][0], model.predict_proba(pd.DataFrame([ROW]))[0], atol=1e-6
    )


@pytest.mark.slow  # starts a real server process: ~30 s on a busy 2-core machine
def test_api_key_is_required_everywhere_but_health(server):
    base = f"http://127.0.0.1:{server['port']}"
    for path in ("/metadata", "/", "/docs", "/openapi.json"):
        assert httpx.get(base + path).status_code == 401, path
    wrong = httpx.post(base + "/predict", json={"rows": [ROW]}, headers={"X-API-Key": "guess"})
    assert wrong.status_code == 401 and "API key" in wrong.json()["detail"]
    assert httpx.get(base + f"/?api_key={KEY}").status_code == 200
    still_up(server["client"])


@pytest.mark.parametrize(
    "row, where, message",
    [
        ({k: v for k, v in ROW.items() if k != "Age"}, "rows.0.Age", "Field required"),
        ({**ROW, "Surname": "Smith"}, "rows.0.Surname", "Extra inputs are not permitted"),
        ({**ROW, "Age": "forty"}, "rows.0.Age", "valid number"),
        ({**ROW, "Age": [40]}, "rows.0.Age", "valid number"),
        ({**ROW, "Geography": "Italy"}, "rows.0.Geography", "'France', 'Germany' or 'Spain'"),
        ({**ROW, "Gender": "F" * 5000}, "rows.0.Gender", ""),
    ],
)
@pytest.mark.slow  # starts a real server process: ~30 s on a busy 2-core machine
def test_bad_rows_get_422_naming_the_field(server, row, where, message):
    answer = server["client"].post("/predict", json={"rows": [row]})
    assert answer.status_code == 422
    assert where in answer.json()["message"] and message in answer.json()["message"]
    assert "F" * 300 not in answer.text  # a long input is not echoed back


@pytest.mark.slow  # starts a real server process: ~30 s on a busy 2-core machine
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_inf_are_refused(server, literal):
    body = json.dumps({"rows": [{**ROW, "Balance": 0}]}).replace('"Balance": 0', f'"Balance": {literal}')
    answer = server["client"].post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert (
        answer.status_code == 422
        and "rows.0.Balance: Input should be a finite number" in answer.json()["message"]
    )


@pytest.mark.slow  # starts a real server process: ~30 s on a busy 2-core machine
def test_batch_limits_and_malformed_bodies(server):
    client = server["client"]
    too_many = client.post("/predict", json={"rows": [ROW] * 101})
    assert too_many.status_code == 422 and "at most 100 items" in too_many.json()["message"]
    assert client.post("/predict", json={"rows": []}).status_code == 422
    assert client.post("/predict", json=[ROW]).status_code == 422
    broken = client.post("/predict", content=b'{"rows": [', headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and "JSON" in broken.json()["message"]
    upload = client.post("/predict/image", files={"file": ("x.png", b"\x89PNG", "image/png")})
    assert upload.status_code == 415 and "takes rows, not images" in upload.json()["detail"]
    still_up(client)


@pytest.mark.slow  # starts a real server process: ~30 s on a busy 2-core machine
def test_a_50_mb_body_is_refused_without_reading_it(server):
    port, size = server["port"], 50 * 1024 * 1024
    # declared length: the answer comes before the body is sent
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST /predict HTTP/1.1\r\nHost: x\r\nX-API-Key: {KEY}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n".encode()
            + b'{"rows": ['
        )
        reply = b""
        while b"bytes" not in reply:  # headers and body may come in separate packets
            data = sock.recv(4096)
            if not data:
                break
            reply += data
        reply = reply.decode()
    assert reply.startswith("HTTP/1.1 413") and "limit is 1,000,000 bytes" in reply
    # streamed without a length: refused once the limit is passed, long before 50 MB arrive
    sent = 0

    def chunks():
        nonlocal sent
        block = b" " * 65536
        while sent < size:
            sent += len(block)
            yield block

    try:
        answer = httpx.post(
            f"http://127.0.0.1:{port}/predict",
            content=chunks(),
            headers={"X-API-Key": KEY, "Content-Type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 413
    except httpx.HTTPError:
        pass  # the server may close the connection before the client finishes sending
    assert sent < size / 2
    still_up(server["client"])


@pytest.mark.slow  # starts a real server process: ~30 s on a busy 2-core machine
def test_unknown_model_folder_and_tampered_weights_fail_at_start(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "deepzoo", "serve", str(tmp_path / "nothing"), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "No saved model at" in result.stderr
    assert "Traceback" not in result.stderr
    model_dir, _, _ = saved_model(tmp_path)
    with open(model_dir / "mlp" / "weights.safetensors", "r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 1]))
    result = subprocess.run(
        [sys.executable, "-m", "deepzoo", "serve", str(model_dir), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "does not match the sha256 recorded" in result.stderr


@pytest.mark.slow
def test_sigkill_under_load_loses_nothing_and_restarts(tmp_path):
    model_dir, frame, model = saved_model(tmp_path)
    before = {p: p.read_bytes() for p in model_dir.rglob("*") if p.is_file()}
    log = tmp_path / "predictions.jsonl"
    port = free_port()
    process = start_server(model_dir, port, "--log", str(log))
    answered, stop_sending = [], threading.Event()

    def client_loop(worker: int):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for i in range(100_000):
                if stop_sending.is_set():
                    return
                tag = worker * 1_000_000 + i  # Balance identifies the request in the log
                try:
                    answer = client.post("/predict", json={"rows": [{**ROW, "Balance": float(tag)}]})
                except httpx.HTTPError:
                    return
                if answer.status_code == 200:
                    answered.append(tag)

    threads = [threading.Thread(target=client_loop, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(answered) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    stop_sending.set()
    for thread in threads:
        thread.join()
    assert len(answered) >= 200
    # every answered request is in the log, and the log holds only whole JSON lines
    logged = set()
    for line in log.read_text().splitlines():
        record = json.loads(line)
        logged.update(int(row["Balance"]) for row in record["rows"])
    assert set(answered) <= logged
    # the model folder is untouched and still loads (its checksums verify)
    assert {p: p.read_bytes() for p in model_dir.rglob("*") if p.is_file()} == before
    deepzoo.load(model_dir)
    # restarted on the same port, it answers again and appends to the same log
    process = start_server(model_dir, port, "--log", str(log))
    try:
        answer = httpx.post(f"http://127.0.0.1:{port}/predict", json={"rows": [ROW]}, timeout=30)
        assert answer.status_code == 200
        np.testing.assert_allclose(
            answer.json()["probabilities"][0], model.predict_proba(pd.DataFrame([ROW]))[0], atol=1e-6
        )
    finally:
        stop(process)
    assert json.loads(log.read_text().splitlines()[-1])["rows"] == [ROW]


@pytest.mark.slow
def test_page_form_in_headless_chromium(server):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser_path, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser_path and driver_path):
        message = "Debian's chromium and chromium-driver are needed (.ci/run installs them)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(f"http://127.0.0.1:{server['port']}/?api_key={KEY}")
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")
        Select(driver.find_element(By.ID, "f_Geography")).select_by_visible_text(ROW["Geography"])
        Select(driver.find_element(By.ID, "f_Gender")).select_by_visible_text(ROW["Gender"])
        for name in ("Age", "Balance"):
            driver.find_element(By.ID, f"f_{name}").send_keys(str(ROW[name]))
        driver.find_element(By.ID, "submit").click()
        heading = wait.until(lambda d: d.find_elements(By.ID, "prediction"))[0]
        expected = server["model"].predict_proba(pd.DataFrame([ROW]))[0]
        assert heading.text == f"Prediction: {int(expected.argmax())}"
        cells = driver.find_elements(By.CSS_SELECTOR, "#probabilities td")
        shown = [float(cells[i].text) for i in (1, 3)]
        np.testing.assert_allclose(shown, expected, atol=1e-4)
        # the page shows the server's refusals: here, a wrong API key
        driver.execute_script("headers['X-API-Key'] = 'wrong'; init();")
        error = wait.until(lambda d: d.find_elements(By.ID, "error"))[0]
        assert "401" in error.text
    finally:
        driver.quit()


def _png(mode: str, size=(12, 10)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, size, color=0).save(buffer, format="PNG" if mode != "CMYK" else "JPEG")
    return buffer.getvalue()


def test_image_uploads_are_checked_before_the_model():
    from fastapi import HTTPException

    from deepzoo.serving.serve import Limits, _image_array

    limits = Limits()
    array = _image_array(_png("RGB"), (3, 8, 8), limits, "cat.png")
    assert array.shape == (1, 3, 8, 8) and array.dtype == np.uint8  # resized to the model's size
    assert _image_array(_png("L"), (1, 28, 28), limits, "digit.png").shape == (1, 1, 28, 28)
    with pytest.raises(HTTPException) as not_image:
        _image_array(b"%PDF-1.4 not an image", (3, 8, 8), limits, "report.pdf")
    assert not_image.value.status_code == 415 and "'report.pdf' is not an image" in not_image.value.detail
    for mode, shape in (("CMYK", (3, 8, 8)), ("RGBA", (3, 8, 8)), ("RGB", (1, 8, 8))):
        with pytest.raises(HTTPException) as wrong_mode:
            _image_array(_png(mode), shape, limits, "x")
        assert wrong_mode.value.status_code == 422 and f"has mode {mode!r}" in wrong_mode.value.detail
    with pytest.raises(HTTPException) as huge:
        _image_array(_png("RGB", (200, 200)), (3, 8, 8), Limits(max_image_pixels=100), "big.png")
    assert huge.value.status_code == 413


# -- the other families, in process (the HTTP layer is the same as above) ---------------------------------
@pytest.fixture
def client_for(tmp_path):
    from fastapi.testclient import TestClient

    from deepzoo.serving.serve import create_app

    clients = []

    def make(model):
        deepzoo.save(model, tmp_path / "m")
        client = TestClient(create_app(tmp_path / "m"))
        clients.append(client.__enter__())
        return clients[-1]

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_convnet_image_upload(client_for):
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = (digits.images[:120] * 16).astype(np.uint8)[:, None]
    clf = deepzoo.ConvNetClassifier("lenet5", max_iter=1, random_state=0, device="cpu").fit(
        X, digits.target[:120]
    )
    client = client_for(clf)
    meta = client.get("/metadata").json()
    assert meta["input"]["kind"] == "image" and meta["input"]["image_shape"] == [1, 8, 8]
    assert "An image" in meta["model_card"]
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(X[5, 0]).save(buffer, format="PNG")
    answer = client.post("/predict/image", files={"file": ("five.png", buffer.getvalue(), "image/png")})
    assert answer.status_code == 200, answer.text
    # rounded to 6 decimals by the server (<= 5e-7), the same float32 network on the same image
    np.testing.assert_allclose(answer.json()["probabilities"][0], clf.predict_proba(X[5:6])[0], atol=1e-6)
    rgb = client.post("/predict/image", files={"file": ("rgb.png", _png("RGB", (8, 8)), "image/png")})
    assert rgb.status_code == 422 and "has mode 'RGB'" in rgb.json()["detail"]
    text = client.post("/predict/image", files={"file": ("notes.txt", b"hello", "text/plain")})
    assert text.status_code == 415 and "not an image" in text.json()["detail"]
    rows = client.post("/predict", json={"rows": [[[0.0]]]})
    assert rows.status_code == 415 and "/predict/image" in rows.json()["detail"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_segmenter_answers_a_mask_png_and_pixel_counts(client_for):
    import base64
    import io
    import json

    from PIL import Image
    from test_segmentation import discs

    from deepzoo.data.segmentation import read_mask

    X, Y = discs(24, size=16, ids=(0, 3))
    gray = np.clip(X * 255, 0, 255).astype(np.uint8)
    seg = deepzoo.ConvNetSegmenter(width=0.25, depth=2, max_iter=2, random_state=0, device="cpu").fit(gray, Y)
    client = client_for(seg)
    buffer = io.BytesIO()
    Image.fromarray(gray[1, 0]).save(buffer, format="PNG")
    upload = {"file": ("street.png", buffer.getvalue(), "image/png")}
    answer = client.post("/predict/mask", files=upload)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    mask = read_mask(io.BytesIO(answer.content))
    np.testing.assert_array_equal(mask, seg.predict(gray[1:2])[0])
    counts = json.loads(answer.headers["x-pixel-counts"])
    assert counts == {"0": int((mask == 0).sum()), "3": int((mask == 3).sum())}
    as_json = client.post("/predict/image", files=upload).json()
    assert as_json["pixel_counts"] == counts and (as_json["height"], as_json["width"]) == (16, 16)
    np.testing.assert_array_equal(read_mask(io.BytesIO(base64.b64decode(as_json["mask_png"]))), mask)
    # a size the U-Net cannot take: the multiple it needs, in a 422
    odd = io.BytesIO()
    Image.fromarray(gray[1, 0, :, :14]).save(odd, format="PNG")
    refused = client.post("/predict/mask", files={"file": ("odd.png", odd.getvalue(), "image/png")})
    assert refused.status_code == 422 and "multiples of 4" in refused.json()["detail"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sequence_classifier_text_rows(client_for):
    texts = ["good film", "great fun film", "bad film", "awful boring film"] * 10
    clf = deepzoo.SequenceClassifier("conv1d", max_iter=3, random_state=0).fit(
        texts, ["pos", "pos", "neg", "neg"] * 10
    )
    client = client_for(clf)
    assert client.get("/metadata").json()["input"]["kind"] == "text"
    answer = client.post("/predict", json={"rows": ["a great film", "boring"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["classes"] == ["neg", "pos"]
    # rounded to 6 decimals by the server (<= 5e-7), the same float32 network on the same texts
    np.testing.assert_allclose(
        body["probabilities"], clf.predict_proba(["a great film", "boring"]), atol=1e-6
    )
    for bad, message in (([""], "at least 1 character"), ([3], "valid string"), (["x" * 20_001], "at most")):
        refused = client.post("/predict", json={"rows": bad})
        assert refused.status_code == 422 and "rows.0" in refused.json()["message"]
        assert message in refused.json()["message"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_forecaster_window_rows(client_for):
    series = np.sin(np.arange(120) / 5)
    X = np.stack([series[i : i + 10] for i in range(100)])[:, :, None]
    model = deepzoo.LSTMForecaster((8,), max_iter=2, random_state=0).fit(X, series[10:110])
    client = client_for(model)
    assert client.get("/metadata").json()["input"]["kind"] == "windows"
    answer = client.post("/predict", json={"rows": X[:3].tolist()})
    assert answer.status_code == 200, answer.text
    # the same float32 windows through the same network in one batch; JSON carries floats exactly
    np.testing.assert_allclose(answer.json()["predictions"], model.predict(X[:3]), atol=1e-6)
    ragged = client.post("/predict", json={"rows": [X[0].tolist(), X[1, :4].tolist()]})
    assert ragged.status_code == 422 and "The model refused the rows" in ragged.json()["detail"]


def test_numpy_fast_path_equals_scikit_learn_or_steps_aside():
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures
    from tabular_model import churn_like, tabular_pipeline

    from deepzoo.engine.model_card import describe_inputs
    from deepzoo.serving.serve import _fast_preprocessing

    frame = churn_like()
    model = tabular_pipeline(frame)
    fast = _fast_preprocessing(model, describe_inputs(model))
    X = frame.drop(columns="Exited")
    numeric = pd.api.types.is_numeric_dtype
    columns = {c: X[c].to_numpy(dtype=float if numeric(X[c]) else object) for c in X.columns}
    # the same float64 operations as scikit-learn's (one-hot, (x - mean) / scale): equal to the last bit
    # in practice; 1e-12 on values of size ~1 is the product's own check (serve._fast_preprocessing)
    np.testing.assert_allclose(fast(columns), model[:-1].transform(X), rtol=0, atol=1e-12)
    # a transformer the fast path does not know: scikit-learn's path is kept
    odd = Pipeline(
        [
            ("encode", ColumnTransformer([("poly", PolynomialFeatures(2), ["Age", "Balance"])])),
            ("mlp", deepzoo.MLPClassifier((4,), max_iter=2, random_state=0)),
        ]
    )
    with pytest.warns(Warning):
        odd.fit(X, frame.Exited)
    assert _fast_preprocessing(odd, describe_inputs(odd)) is None
    # an encoder that raises on unknown categories: also kept on scikit-learn's path
    strict = Pipeline(
        [
            ("encode", ColumnTransformer([("cat", OneHotEncoder(sparse_output=False), ["Geography"])])),
            ("mlp", deepzoo.MLPClassifier((4,), max_iter=2, random_state=0)),
        ]
    )
    with pytest.warns(Warning):
        strict.fit(X, frame.Exited)
    assert _fast_preprocessing(strict, describe_inputs(strict)) is None


# -- every kind deepzoo fit saves: fit -> serve (a real process) -> HTTP == deepzoo predict ---------------
def fit_and_serve(tmp_path, frame: pd.DataFrame, *settings: str):
    """``deepzoo fit`` the table, ``deepzoo serve`` its model: (data path, model dir, process, client)."""
    from typer.testing import CliRunner

    from deepzoo import cli

    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    fitted = CliRunner().invoke(cli.app, ["fit", str(data), "--out", str(out), "--quiet", *settings])
    assert fitted.exit_code == 0, fitted.output
    port = free_port()
    process = start_server(out / "model", port)
    return data, out / "model", process, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)


def cli_predict(model_dir, data, out, *extra: str) -> pd.DataFrame:
    from typer.testing import CliRunner

    from deepzoo import cli

    result = CliRunner().invoke(cli.app, ["predict", str(model_dir), str(data), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out)


@pytest.mark.slow  # fits, then starts a real server process: ~20 s on a busy 2-core machine
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_series_fit_serve_horizon_equals_predict(tmp_path):
    t = np.arange(60)
    sales = 100 + 0.8 * t + 15 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 2, 60)
    frame = pd.DataFrame({"month": pd.date_range("2000-01", periods=60, freq="MS").strftime("%Y-%m")})
    frame["sales"] = sales.round(2)
    data, model_dir, process, client = fit_and_serve(tmp_path, frame, "--set", "max_iter=2")
    try:
        assert client.get("/metadata").json()["input"]["kind"] == "series"
        answer = client.post("/predict", json={"rows": frame.to_dict("records"), "horizon": 5})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        refused = client.post("/predict", json={"rows": frame.head(4).to_dict("records"), "horizon": 2})
        assert refused.status_code == 422 and "at least" in refused.json()["detail"]
        too_far = client.post("/predict", json={"rows": frame.to_dict("records"), "horizon": 0})
        assert too_far.status_code == 422 and "horizon" in too_far.json()["message"]
    finally:
        client.close()
        stop(process)
    expected = cli_predict(model_dir, data, tmp_path / "p.csv", "--horizon", "5")
    # the dates continue the file's monthly calendar in its own format
    assert body["dates"] == list(expected["month"]) == ["2005-01", "2005-02", "2005-03", "2005-04", "2005-05"]
    # the same float32 network on the same rows in the same batches; each step's level is the last one
    # plus a forecast change, so float32 rounding (~1e-7 relative) of values near 150 is what may differ
    np.testing.assert_allclose(body["predictions"], expected["prediction"], rtol=1e-6)
    assert (expected["persistence"] == frame["sales"].iloc[-1]).all()
    # seasonal persistence: the value one season (12 months) before each forecast date
    np.testing.assert_array_equal(expected["seasonal_persistence"], frame["sales"].iloc[-12:-7])
    # the baselines are copies of known values: the server's are the same numbers exactly
    assert body["persistence"] == expected["persistence"].tolist()
    assert body["seasonal_persistence"] == expected["seasonal_persistence"].tolist()


@pytest.mark.slow  # fits, then starts a real server process: ~20 s on a busy 2-core machine
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_ratings_fit_serve_pairs_and_recommend_equal_predict(tmp_path):
    from deepzoo.data.ratings import make_ratings

    ratings = make_ratings(40, 30, 400, rank=2, taste=1.0, bias=0.5, noise=0.3, random_state=0)
    data, model_dir, process, client = fit_and_serve(tmp_path, ratings, "--set", "max_iter=5")
    pairs = pd.DataFrame({"user": [1, 2, 3, 999], "item": [3, 4, 5, 3]})  # user 999 is unseen
    try:
        meta = client.get("/metadata").json()["input"]
        assert meta["kind"] == "pairs" and [c["name"] for c in meta["columns"]] == ["user", "item"]
        answer = client.post("/predict", json={"rows": pairs.to_dict("records")})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        top = client.get("/recommend/1", params={"k": 5}).json()
        unknown = client.get("/recommend/999", params={"k": 3}).json()
        assert client.get("/recommend/abc").status_code == 422
        wrong = client.post("/predict", json={"rows": [{"user": 1}]})
        assert wrong.status_code == 422 and "rows.0.item" in wrong.json()["message"]
    finally:
        client.close()
        stop(process)
    pairs.to_csv(tmp_path / "pairs.csv", index=False)
    expected = cli_predict(model_dir, tmp_path / "pairs.csv", tmp_path / "p.csv")
    # the same float32 network scores the same pairs (batched alike): equal to float32 rounding of ~3
    np.testing.assert_allclose(body["predictions"], expected["prediction"], rtol=1e-6)
    assert body["cold_start"] == [False, False, False, True]
    model = deepzoo.load(model_dir)
    assert top["items"] == model.recommend(1, 5)["item"].tolist() and not top["cold_start"]
    from deepzoo.tasks.ratings import split

    train, _ = split(ratings, 0.2, 0)  # deepzoo fit's split (test_size 0.2, seed 0)
    seen = set(train.loc[train["user"] == 1, "item"])
    # only items user 1 did not rate in training, and some they did rate exist to be left out
    assert len(top["items"]) == 5 and seen and not seen & set(top["items"])
    assert top["scores"] == sorted(top["scores"], reverse=True)
    assert unknown["cold_start"] and len(unknown["items"]) == 3


@pytest.mark.slow  # fits, then starts a real server process: ~20 s on a busy 2-core machine
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_clusters_fit_serve_cluster_and_anomaly_score_equal_predict(tmp_path):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(120, centers=3, n_features=3, random_state=0)
    frame = pd.DataFrame(X.round(4), columns=["a", "b", "c"])
    frame.loc[5, ["a", "b", "c"]] = [40.0, -40.0, 40.0]  # one row far from everything
    data, model_dir, process, client = fit_and_serve(tmp_path, frame, "--set", "max_iter=5")
    try:
        answer = client.post("/predict", json={"rows": frame.to_dict("records")})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert client.get("/recommend/1").status_code == 404
    finally:
        client.close()
        stop(process)
    expected = cli_predict(model_dir, data, tmp_path / "p.csv")
    assert body["predictions"] == expected["cluster"].tolist()
    # distances of float32 codebook vectors to the same encoded rows: float32 rounding of values ~1
    np.testing.assert_allclose(body["anomaly_scores"], expected["anomaly_score"], rtol=1e-6, atol=1e-6)
    assert int(np.argmax(body["anomaly_scores"])) == 5  # the far row is the most anomalous
