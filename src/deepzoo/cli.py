"""The ``deepzoo`` command (also ``python -m deepzoo``): thin; parses, calls cases/, prints.

Every problem with the user's input ends in one line on stderr and a non-zero exit, no traceback,
unless ``--debug``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import time
import typing
import warnings
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from .tasks.kinds import task_help

app = typer.Typer(
    name="deepzoo",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="The classic deep-learning model families, end to end, on real data. Try: deepzoo tour",
)
console = Console()
err = Console(stderr=True)

# What a user can get wrong that deserves one line, not a traceback.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, OSError, FloatingPointError, KeyError)


class ConfigError(ValueError):
    """Every problem found in the options, reported together."""


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _parse_value(text: str, default, annotation):
    """Turn ``text`` from the command line into the type of a Config field."""
    kind = type(default) if default is not None else None
    if kind is None and annotation is not None:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        kind = args[0] if args else annotation
    if kind is bool:
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if kind is int:
        return int(text)
    if kind is float:
        return float(text)
    if kind is tuple:
        return tuple(int(part) for part in text.replace("(", "").replace(")", "").split(",") if part.strip())
    if kind is dict:
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError("expected a JSON object")
        return value
    return text


def _field_value(raw: str):
    """A KEY=VALUE value for a dict field: a number when it reads as one."""
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def build_config(case, overrides: dict, sets: list[str], customer: list[str]):
    """The case's Config with the options applied; raises ConfigError listing every problem at once."""
    module = case.load()
    config_cls = module.Config
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    defaults = config_cls()
    hints = typing.get_type_hints(config_cls)
    values, problems = {}, []
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in fields:
            problems.append(f"the {case.name} case study does not take --{key.replace('_', '-')}")
            continue
        values[key] = value
    for item in sets:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            problems.append(f"--set expects KEY=VALUE, got {item!r}")
        elif key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{key!r} is not a setting of {case.name}{hint}; settings: {', '.join(fields)}")
        else:
            try:
                values[key] = _parse_value(raw, getattr(defaults, key), hints.get(key))
            except (ValueError, json.JSONDecodeError) as exc:
                problems.append(f"--set {key}: {exc}")
    if customer:
        if "customer" not in fields:
            problems.append(f"the {case.name} case study does not take --customer")
        else:
            record = {}
            for item in customer:
                key, sep, raw = item.partition("=")
                if not sep:
                    problems.append(f"--customer expects FIELD=VALUE, got {item!r}")
                else:
                    record[key.strip()] = _field_value(raw.strip())
            values["customer"] = record
    if problems:
        raise ConfigError("; ".join(problems))
    return config_cls(**values)


def _run_case(case, config, out: Path) -> dict:
    from .engine import distributed

    if distributed.is_main_process():
        console.print(f"[bold]deepzoo run {case.name}[/] -> {out}")
    started = time.perf_counter()
    metrics = case.load().run(config, out)
    metrics = dict(metrics, run_seconds=time.perf_counter() - started)
    return metrics


def _print_metrics(name: str, metrics: dict, out: Path) -> None:
    from .engine import distributed

    if not distributed.is_main_process():
        return
    table = Table(title=f"{name}: results", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.4f}")
        elif isinstance(value, (int, str)):
            table.add_row(key, str(value))
    console.print(table)
    console.print(f"Report: {out / 'report.html'}")


def _lookup_case(name: str):
    from .cases import CASES

    if name not in CASES:
        close = difflib.get_close_matches(name, list(CASES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"Unknown case study {name!r}.{hint} Run 'deepzoo list' to see them all.")
    return CASES[name]


def _guard(debug: bool, action, *, out: Path | None = None):
    """Run ``action`` turning user errors into one line (or a traceback with --debug)."""
    if debug:
        return action()
    try:
        return action()
    except KeyboardInterrupt:
        where = f" in {out / 'checkpoints'}" if out is not None else ""
        raise _fail(
            f"interrupted. The last checkpoint{where} is intact: run the same command with "
            "--resume to continue.",
            code=130,
        ) from None
    except USER_ERRORS as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, KeyError):
            message = f"missing key {exc}"
        raise _fail(message) from None


@app.command("list")
def list_cases() -> None:
    """Show the case studies and the data each needs."""
    from .cases import CASES
    from .data.registry import locate

    table = Table(title="deepzoo case studies")
    for column in ("name", "family", "what it answers", "data"):
        table.add_column(column)
    for case in CASES.values():
        if case.offline:
            data = "[green]bundled (offline)[/]"
        else:
            folder, where = locate(case.dataset)
            data = f"{case.dataset}: " + (f"[green]{where}[/]" if folder else "[yellow]not found[/]")
        table.add_row(case.name, case.family, case.summary, data)
    console.print(table)


@app.command("run")
def run(
    name: str = typer.Argument(..., help="Case study, e.g. churn (see 'deepzoo list')."),
    data: str | None = typer.Option(None, "--data", help="Dataset folder or file; default: the registry."),
    quick: bool = typer.Option(False, "--quick", help="Tiny budgets: a smoke run in seconds."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of splits and networks."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu, cuda or cuda:N."),
    out: Path | None = typer.Option(None, "--out", help="Run folder; default runs/NAME."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from its checkpoint."),
    set_: list[str] = typer.Option([], "--set", help="Override any Config field: --set max_iter=50."),
    customer: list[str] = typer.Option([], "--customer", help="A new customer's field: --customer Age=40."),
    customers: str | None = typer.Option(None, "--customers", help="CSV of new customers to score."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks."),
) -> None:
    """Run one case study and write its report folder."""
    out = out or Path("runs") / name

    def action():
        case = _lookup_case(name)
        overrides = {
            "data": data,
            "seed": seed,
            "device": device,
            "quick": quick or None,
            "resume": resume or None,
            "customers_csv": customers,
            "verbose": False if quiet else True,
        }
        config = build_config(case, overrides, set_, customer)
        metrics = _run_case(case, config, out)
        _print_metrics(name, metrics, out)

    _guard(debug, action, out=out)


@app.command("tour")
def tour(
    out: Path = typer.Option(Path("runs/tour"), "--out", help="Folder of the tour's reports."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu, cuda or cuda:N."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks."),
) -> None:
    """Run every case study whose data comes with installed packages (offline) and write an index page."""
    from sklearn.exceptions import ConvergenceWarning

    from .cases import CASES
    from .report import headline_metrics, write_index

    def action():
        entries = []
        offline = [case for case in CASES.values() if case.offline]
        for number, case in enumerate(offline, 1):
            console.print(f"[bold cyan]({number}/{len(offline)})[/] {case.summary}")
            config = build_config(case, {"device": device, **case.tour}, [], [])
            with warnings.catch_warnings():
                # the tour's budgets are short on purpose: "max_iter reached" would only be noise here
                warnings.simplefilter("ignore", ConvergenceWarning)
                metrics = _run_case(case, config, out / case.name)
            entries.append(
                {
                    "name": case.name,
                    "title": case.summary,
                    "family": case.family,
                    "report": f"{case.name}/report.html",
                    "metrics": metrics,
                    "seconds": metrics["run_seconds"],
                }
            )
            headline = ", ".join(
                f"{label} {value}"
                for label, value, _ in headline_metrics(
                    metrics, 3, skip={"fit_seconds", "run_seconds", "epochs"}
                )
            )
            console.print(f"    done in {metrics['run_seconds']:.1f} s: {headline}")
        index = write_index(out, entries)
        console.print(f"[bold green]Tour finished.[/] Open {index}")

    _guard(debug, action, out=out)


def _setting(text: str):
    """A --set value: a Python literal when it reads as one (numbers, tuples, true/false), else text."""
    import ast

    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()


def _names(values: list[str]) -> tuple:
    """Repeated options and comma-separated lists alike: --drop a --drop b == --drop a,b."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


@app.command("fit")
def fit_command(
    data: str | None = typer.Argument(None, help="A table (CSV/TSV/Parquet), an image or text folder."),
    target: str | None = typer.Option(
        None, "--target", help="The column to predict (headerless: 0, 1, ...)."
    ),
    task: str | None = typer.Option(None, "--task", help=task_help()),
    out: Path | None = typer.Option(None, "--out", help="Run folder; default runs/<data name>."),
    time_limit: float | None = typer.Option(None, "--time-limit", help="Seconds the deep model may train."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the split and the networks."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu, cuda or cuda:N."),
    set_: list[str] = typer.Option([], "--set", help="A deep-model parameter: --set max_iter=50."),
    drop: list[str] = typer.Option([], "--drop", help="Columns to leave out."),
    categorical: list[str] = typer.Option([], "--categorical", help="Columns to treat as categories."),
    numeric: list[str] = typer.Option([], "--numeric", help="Columns to treat as numbers."),
    text: list[str] = typer.Option([], "--text", help="Columns to treat as free text."),
    date: list[str] = typer.Option([], "--date", help="Columns to treat as dates."),
    group: list[str] = typer.Option([], "--group", help="A column to audit for fairness in the report."),
    test_size: float | None = typer.Option(None, "--test-size", help="Share of rows held out (default 0.2)."),
    sheet: str | None = typer.Option(
        None, "--sheet", help="A workbook's sheet: its name or position from 0 (default: the first)."
    ),
    config: Path | None = typer.Option(None, "--config", help="A run's config.json: run it again."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted fit from its checkpoint."),
    tune: int | None = typer.Option(
        None, "--tune", help="Tune the deep model with N Optuna trials on the training rows."
    ),
    tune_time: float | None = typer.Option(None, "--tune-time", help="Seconds the tuning may take."),
    tune_jobs: int | None = typer.Option(
        None, "--tune-jobs", help="Processes running trials at once, sharing the study (default 1)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No schema table, no progress bars."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks."),
) -> None:
    """Train a deep model on your own data beside the classical baselines; write a report and the model."""

    def action():
        from .tasks import FitConfig, fit

        problems = []
        if config is not None:
            try:
                base = FitConfig.from_dict(json.loads(Path(config).read_text()))
            except FileNotFoundError:
                raise ConfigError(f"--config {config}: no such file") from None
            except json.JSONDecodeError as exc:
                raise ConfigError(f"--config {config} is not valid JSON ({exc})") from None
        else:
            if data is None:
                raise ConfigError("give the data to fit: deepzoo fit DATA [--target COLUMN]")
            base = FitConfig(out=str(Path("runs") / (Path(data).stem or "fit")))
        settings = dict(base.settings)
        for item in set_:
            key, sep, raw = item.partition("=")
            if not sep or not key.strip():
                problems.append(f"--set expects KEY=VALUE, got {item!r}")
            else:
                settings[key.strip().replace("-", "_")] = _setting(raw)
        tuning = tune is not None or tune_time is not None
        if tuning and config is not None and base.tune is None and base.tune_time is None:
            problems.append(
                f"--tune with --config {config}: that run was not tuned, so it has no study to continue; "
                "to tune the same data run 'deepzoo fit DATA --tune N' (with its own --out)"
            )
        if problems:
            raise ConfigError("; ".join(problems))
        given = {
            "data": data,
            "target": target,
            "task": task,
            "out": None if out is None else str(out),
            "time_limit": time_limit,
            "seed": seed,
            "device": device,
            "test_size": test_size,
            "sheet": sheet,
            "drop": _names(drop) or None,
            "categorical": _names(categorical) or None,
            "numeric": _names(numeric) or None,
            "text": _names(text) or None,
            "date": _names(date) or None,
            "group": _names(group) or None,
            "tune": tune,
            "tune_time": tune_time,
            "tune_jobs": tune_jobs,
        }
        run_config = dataclasses.replace(
            base,
            **{k: v for k, v in given.items() if v is not None},
            settings=settings,
            resume=resume,
            verbose=not quiet,
        )
        fit(run_config.data, config=run_config)

    _guard(debug, action, out=out)


@app.command("predict")
def predict_command(
    model_dir: Path = typer.Argument(..., help="A model folder (e.g. runs/mydata/model)."),
    data: Path = typer.Argument(
        ...,
        help="The rows to score: a table with the training columns (texts: or a .txt, one a line), or "
        "images: a folder, a file, a list.",
    ),
    out: Path = typer.Option(Path("predictions.csv"), "--out", help="The CSV to write."),
    chunksize: int = typer.Option(100_000, "--chunksize", help="Rows read and scored at a time."),
    horizon: int | None = typer.Option(
        None, "--horizon", help="Forecasters: the next H steps after the table, beside the baselines."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks."),
) -> None:
    """Score new data with a saved model: one CSV row per input row, in input order (with --horizon H,
    a forecaster's next H steps)."""

    def action():
        from .tasks.predict import predict_to_csv

        if horizon is not None and horizon < 1:
            raise ConfigError(f"--horizon must be a positive number of steps; got {horizon}.")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            path, n_rows = predict_to_csv(model_dir, data, out, chunksize=chunksize, horizon=horizon)
        for warning in caught:
            err.print(f"[yellow]warning:[/] {warning.message}", highlight=False)
        console.print(f"Wrote {n_rows:,} predictions to {path}")

    _guard(debug, action)


@app.command("compare")
def compare_command(
    runs: list[Path] = typer.Argument(
        ..., help="Run folders of deepzoo fit (two or more), one task, same data."
    ),
    out: Path = typer.Option(Path("compare.html"), "--out", help="The page to write."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks."),
) -> None:
    """Put runs side by side on one page: settings as a diff, metrics with the best marked, learning
    curves overlaid, leaderboards, data fingerprints, fit seconds."""

    def action():
        from .tasks.compare import compare_runs

        path = compare_runs(runs, out)
        console.print(f"Compared {len(runs)} runs: {path}")

    _guard(debug, action)


@app.command("datasets")
def datasets() -> None:
    """List the named datasets, where each was found, and whether its files match their checksums."""
    from .data.registry import DATASETS, locate

    table = Table(title="deepzoo datasets (looked up in: --data, $DEEPZOO_DATA_DIR, the user cache)")
    for column in ("name", "found", "where", "licence", "case studies"):
        table.add_column(column)
    for name, dataset in DATASETS.items():
        folder, where = locate(name)
        found = f"[green]{folder}[/]" if folder else "[yellow]missing[/]"
        table.add_row(name, found, where, dataset.licence, ", ".join(dataset.case_studies))
    console.print(table)
    if not os.environ.get("DEEPZOO_DATA_DIR"):
        console.print("Set DEEPZOO_DATA_DIR to the folder holding the datasets (e.g. ../shared/datasets).")


@app.command("audit")
def audit(
    model_dir: Path = typer.Argument(..., help="A model folder written by save (e.g. runs/churn/model)."),
    data: Path = typer.Option(..., "--data", help="CSV with the model's inputs, the label and the groups."),
    group: list[str] = typer.Option([], "--group", help="A sensitive column; repeat for several."),
    target: str | None = typer.Option(None, "--target", help="Label column; default: the last unused one."),
    threshold: float = typer.Option(0.5, "--threshold", help="Scores at or above it are positive."),
    bootstrap: int = typer.Option(200, "--bootstrap", help="Bootstrap resamples for the intervals."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    out: Path | None = typer.Option(None, "--out", help="Also write fairness.json, CSVs and figures here."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks."),
) -> None:
    """Compare a saved binary classifier's scores and decisions across groups (fairness audit)."""

    def action():
        from .audit.fairness import audit_model
        from .data.tabular import read_csv
        from .engine.persistence import load

        if not group:
            raise ConfigError("name at least one group column: --group Gender [--group Geography]")
        model = load(model_dir)
        report = audit_model(
            model,
            read_csv(data),
            group,
            target=target,
            threshold=threshold,
            n_bootstrap=bootstrap,
            random_state=seed,
        )
        pct = int(round(report.confidence * 100))
        table = Table(title=f"Scores by group (threshold {threshold:g}, {pct}% bootstrap CI)")
        for column in ("attribute", "group", "n", "mean score", "selection rate", "TPR", "FPR", "KS p"):
            table.add_column(column, justify="left" if column in ("attribute", "group") else "right")
        for row in report.by_group.itertuples():
            table.add_row(
                row.attribute,
                row.group,
                str(row.count),
                f"{row.mean_score:.3f}",
                f"{row.selection_rate:.3f} [{row.selection_rate_low:.3f}, {row.selection_rate_high:.3f}]",
                f"{row.tpr:.3f}",
                f"{row.fpr:.3f}",
                f"{row.ks_pvalue:.3g}",
            )
        console.print(table)
        for row in report.summary.itertuples():
            console.print(
                f"{row.attribute}: demographic parity difference {row.demographic_parity_difference:.3f} "
                f"(ratio {row.demographic_parity_ratio:.3f}), equalized odds difference "
                f"{row.equalized_odds_difference:.3f} (ratio {row.equalized_odds_ratio:.3f})"
            )
        if out is not None:
            from . import plots
            from .report import RunReport

            run = RunReport(out, f"Fairness audit of {model_dir}", {"data": str(data), "group": group})
            summary = report.summary.itertuples()
            run.add_metrics(
                **{f"{r.attribute}_dp_difference": r.demographic_parity_difference for r in summary}
            )
            for attribute in report.attributes:
                run.add_figure(f"rates_{attribute}", plots.plot_group_rates(report, attribute))
                ecdf = plots.plot_score_ecdf(report.scores, report.groups[attribute])
                run.add_figure(f"ecdf_{attribute}", ecdf, f"Score ECDF by {attribute}.")
            run.add_table("by_group", report.by_group.round(4))
            run.add_table("summary", report.summary.round(4))
            run.write()
            console.print(f"Report: {out / 'report.html'}")

    _guard(debug, action)


@app.command("serve")
def serve_command(
    model_dir: Path = typer.Argument(..., help="A model folder written by save (e.g. runs/churn/model)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface; 0.0.0.0 exposes it to the network."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    api_key: str | None = typer.Option(
        None, "--api-key", help="Key required on all routes but /health; default: $DEEPZOO_API_KEY."
    ),
    max_body_bytes: int = typer.Option(8 * 1024 * 1024, "--max-body-bytes", help="Largest request body."),
    max_batch_rows: int = typer.Option(10_000, "--max-batch-rows", help="Most rows in one request."),
    log: Path | None = typer.Option(None, "--log", help="Append one JSON line per answered request."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks."),
) -> None:
    """Serve a saved model over HTTP: /health, /metadata, POST /predict, a form at /, OpenAPI at /docs."""

    def action():
        from .serving.serve import Limits, serve

        limits = Limits(max_body_bytes=max_body_bytes, max_batch_rows=max_batch_rows)
        where = f"http://{host}:{port}/"

        def announce():
            console.print(
                f"[bold]deepzoo serve[/] {model_dir} on {where} (docs: {where}docs); Ctrl+C stops it"
            )

        serve(
            model_dir,
            host=host,
            port=port,
            api_key=api_key,
            limits=limits,
            prediction_log=log,
            announce=announce,
        )

    _guard(debug, action)


@app.command("export")
def export_command(
    model_dir: Path = typer.Argument(..., help="A model folder written by save (e.g. runs/churn/model)."),
    format_: str = typer.Option("onnx", "--format", help="Export format; onnx is the one there is."),
    out: Path | None = typer.Option(None, "--out", help="The file to write; default MODEL_DIR/model.onnx."),
    opset: int = typer.Option(17, "--opset", help="ONNX opset version."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks."),
) -> None:
    """Export a saved model's network to ONNX, checked with onnxruntime against PyTorch (to float32
    rounding: 1e-5 of each output's size, or 4x PyTorch's own float32 error, whichever is larger)."""

    def action():
        if format_ != "onnx":
            raise ConfigError(f"--format must be 'onnx'; got {format_!r}.")
        from .engine.persistence import load
        from .serving.export import export_onnx

        result = export_onnx(load(model_dir), out or Path(model_dir) / "model.onnx", opset=opset)
        console.print(
            f"Wrote {result.path}: input (batch, {', '.join(map(str, result.input_shape))}) -> "
            f"{', '.join(result.outputs)}; onnxruntime matches PyTorch within "
            f"{result.max_abs_difference:.1e} (allowed by float32 rounding: "
            f"{', '.join(f'{k} {v:.1e}' for k, v in result.tolerances.items())})."
        )
        if result.folded_scaler:
            console.print("The Pipeline's StandardScaler is folded into the graph.")
        if result.steps_outside:
            console.print(
                f"Not in the graph: the Pipeline steps {', '.join(result.steps_outside)}; run them "
                f"first (model[:{len(result.steps_outside)}].transform(X)) and feed the result."
            )

    _guard(debug, action)


def main() -> None:
    """Entry point of the ``deepzoo`` script and ``python -m deepzoo``."""
    import matplotlib

    matplotlib.use("Agg")
    app()
