"""``deepzoo fit DATA --tune N``: Optuna searches the deep model's settings on the training rows alone.

training rows -> a validation part carved out of them (the test rows are never handed to a trial) ->
an Optuna study: TPE sampler seeded from ``--seed``, the defaults as the first trial, each trial's
validation loss reported per epoch so that MedianPruner stops hopeless ones, stored in the run folder
as ``optuna.db`` (``--resume`` continues it; ``optuna-dashboard runs/X/optuna.db`` opens it) ->
the best trial's settings -> the task's own road with them: fitted on all the training rows and
scored once on the test rows, beside the untuned default and the baselines -> a "Tuning" section of
the report (trials over time, parameter importances, the best settings, pruned trials).

Where the trials run:

* one process: one trial after another;
* ``--tune-jobs K``: K processes on this machine, each asking the shared SQLite study for its next
  trial (each with 1/K of the CPU threads); the study stops at N finished trials (a trial already
  running in another process still finishes, so a few more than N may be stored);
* under ``torchrun``: one trial after another, each trained on all processes (DDP); process 0 holds
  the study, sends each trial's settings to the others and tells them when a trial is pruned.

The search space of each kind lives beside its defaults (tables: :func:`deepzoo.tasks.table.search_space`,
text: :func:`deepzoo.tasks.text.search_space`, series, ratings likewise). A kind takes part by giving its
``TaskKind`` a ``tune(source, config, report) -> Problem`` (see :class:`Problem`: the split of the training
rows, the search space, one trial's fit and score, the final road); the table's Problem is
:class:`TableProblem`, here.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import time
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..engine import distributed
from ..engine.device import resolve_device
from . import table
from .base import TUNING_VALIDATION_FRACTION, FitConfig, Outcome, stopwatch, tuning_metric

__all__ = ["STUDY_NAME", "VALIDATION_FRACTION", "is_tuned", "run", "tuning_metric"]

STUDY_NAME = "deepzoo"
# share of the training rows each trial is scored on (never the test rows); the trial trains on the rest
VALIDATION_FRACTION = TUNING_VALIDATION_FRACTION
# MedianPruner: judge no trial before 5 have finished, nor before its 5th epoch (the first epochs of a
# good learning rate and of a bad one look alike)
PRUNER_STARTUP_TRIALS = 5
PRUNER_WARMUP_EPOCHS = 5
# errors that end one trial as failed (a learning rate that diverges) while the study goes on
TRIAL_ERRORS = (FloatingPointError,)
_TIME_RAN_OUT = "the tuning time ran out"


def is_tuned(config: FitConfig) -> bool:
    """Whether ``config`` asks for tuning (``--tune`` or ``--tune-time``)."""
    return config.tune is not None or config.tune_time is not None


def option_problems(config: FitConfig) -> list[str]:
    """What is wrong with ``--tune``, ``--tune-time`` and ``--tune-jobs`` (checked before the data are
    read)."""
    problems = []
    if config.tune is not None and (isinstance(config.tune, bool) or not isinstance(config.tune, int)):
        problems.append(f"--tune must be a whole number of trials; got {config.tune!r}")
    elif config.tune is not None and config.tune < 1:
        problems.append(f"--tune must be at least 1 trial; got {config.tune}")
    if config.tune_time is not None and not config.tune_time > 0:
        problems.append(f"--tune-time must be a positive number of seconds; got {config.tune_time}")
    if not (isinstance(config.tune_jobs, int) and config.tune_jobs >= 1):
        problems.append(f"--tune-jobs must be a whole number of processes >= 1; got {config.tune_jobs!r}")
    elif config.tune_jobs > 1 and distributed.launched_by_torchrun():
        problems.append(
            "--tune-jobs runs its own processes and cannot run under torchrun, where each trial already "
            "trains on all processes; drop one of the two"
        )
    return problems


def check(config: FitConfig, estimator, extra_names=()) -> None:
    """The tuning options and, beside them, ``--set`` names that ``estimator`` does not have (nor are
    among the task's ``extra_names``): every problem in one sentence."""
    problems = option_problems(config)
    known = [*estimator.get_params(), *extra_names]
    for name in config.settings:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"--set {name!r} is not a parameter of {type(estimator).__name__}{hint}; beside --tune, "
                "--set fixes a parameter and the search leaves it alone"
            )
    if problems:
        raise ValueError("; ".join(problems) + ".")


# -- one trial -----------------------------------------------------------------------------------------
class Problem(Protocol):
    """What a kind gives ``--tune``: the training rows split into the part each trial fits and the part
    it is scored on (the test rows never enter), its search space and defaults, and the road of the
    final fit. Picklable, for ``--tune-jobs`` worker processes."""

    config: FitConfig
    metric: str  # what the trials are ranked by on the validation part
    direction: str  # 'maximize' or 'minimize'
    n_train: int  # training rows (or texts, ratings) in all
    n_fit: int  # of which each trial fits on
    n_val: int  # and is scored on
    model_name: str  # the tuned model in the report's words: "the MLP"
    tuned_row: str  # its row on the final leaderboard

    def estimator(self):
        """An unfitted deep estimator of this kind: the names ``--set`` may fix are its parameters."""

    def default_trial(self) -> dict:
        """The untuned settings in the search space's terms: the first trial of every study."""

    def settings(self, trial) -> dict:
        """The estimator's settings for an Optuna ``trial``: the defaults, the trial's choices, ``--set``."""

    def score(self, settings: dict, on_epoch) -> tuple[float, int]:
        """Fit on the fitting part with ``settings`` (``fit_loop`` calling ``on_epoch(epoch, history)``
        after each epoch, see :func:`~deepzoo.engine.training.epoch_callback`), score the validation
        part: ``(metric, epochs run)``."""

    def final(self, source, report, changed: dict) -> Outcome:
        """The kind's road with the parameters the best trial ``changed`` from the defaults: fitted on
        all the training rows, scored once on the test rows."""


@dataclasses.dataclass
class TableProblem:
    """Tables: the MLP (``--set`` names), :func:`deepzoo.tasks.table.search_space`; its final road puts
    the tuned MLP beside the untuned default on the leaderboard. It lives here rather than in table.py,
    which this module imports."""

    schema: object
    config: FitConfig
    n_train: int
    X_fit: object
    y_fit: np.ndarray
    X_val: object
    y_val: np.ndarray
    metric: str
    direction: str
    parts: tuple = ()  # train_test's answer, test rows included: for the final road, never for a trial
    model_name: str = "the MLP"
    tuned_row: str = "MLP (deepzoo, tuned)"

    def __getstate__(self) -> dict:
        return {**self.__dict__, "parts": ()}  # --tune-jobs workers get no test rows

    @property
    def n_fit(self) -> int:
        return len(self.X_fit)

    @property
    def n_val(self) -> int:
        return len(self.X_val)

    def estimator(self):
        from ..models.mlp import MLPClassifier, MLPRegressor

        return (MLPClassifier if self.schema.task == "classify" else MLPRegressor)()

    def default_trial(self) -> dict:
        return table.default_trial(self.n_train, self.schema.task)

    def final(self, source, report, changed: dict) -> Outcome:
        return table.run(source, self.config, report, tuned=table.settings_of(changed), parts=self.parts)

    @classmethod
    def build(cls, source, config: FitConfig, report) -> TableProblem:
        """The training rows of ``source`` (the test rows dropped here: no trial ever receives them),
        a validation part carved out of them."""
        task = source.schema.task
        parts = table.train_test(source, config, report)
        X_train, y_train = parts[2], parts[3]
        metric, direction = tuning_metric(task, y_train.nunique() if task == "classify" else None)
        carve = dataclasses.replace(config, test_size=VALIDATION_FRACTION)
        X_fit, X_val, y_fit, y_val, _ = table.split(X_train, y_train, task, carve)
        return cls(
            source.schema,
            config,
            len(X_train),
            X_fit,
            table.target_values(y_fit, task),
            X_val,
            table.target_values(y_val, task),
            metric,
            direction,
            parts,
        )

    def settings(self, trial) -> dict:
        """The trial's MLP settings: the defaults, then the trial's choices, then ``--set``."""
        from ..models.mlp import EARLY_STOPPING_MIN_SAMPLES

        params = table.search_space(trial, self.n_train, self.schema.task, fixed=tuple(self.config.settings))
        settings = {
            **table.mlp_settings(self.n_train, self.schema.task),
            **table.settings_of(params),
            **self.config.settings,
        }
        if settings.get("early_stopping", "auto") == "auto":
            # decided for the final fit's rows, not the trial's 80%: a table of 300-375 training rows
            # stops early in the end, so its trials do too (and report the validation loss that the
            # pruner reads); below, no trial has a validation loss per epoch and none is pruned
            settings["early_stopping"] = self.n_train >= EARLY_STOPPING_MIN_SAMPLES
        return settings

    def score(self, settings: dict, on_epoch) -> tuple[float, int]:
        """Fit on the fitting part with ``settings``, calling ``on_epoch(epoch, history)`` after each
        epoch: ``(validation metric, epochs run)``."""
        from sklearn.pipeline import Pipeline

        from ..engine.training import epoch_callback
        from ..models.mlp import MLPClassifier, MLPRegressor
        from .base import classification_scores, regression_scores

        task = self.schema.task
        Estimator = MLPClassifier if task == "classify" else MLPRegressor
        mlp = Estimator(random_state=self.config.seed, device=self.config.device).set_params(**settings)
        model = Pipeline([("encode", table.encoder_for(self.schema)), ("mlp", mlp)])
        with epoch_callback(on_epoch), warnings.catch_warnings():
            # a trial that runs out of max_iter is scored as it is; a warning per trial says nothing
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(self.X_fit, self.y_fit)
        if task == "classify":
            scores = classification_scores(self.y_val, model.predict_proba(self.X_val), mlp.classes_)
        else:
            scores = regression_scores(self.y_val, model.predict(self.X_val))
        return float(scores[self.metric]), int(mlp.n_iter_)


@dataclasses.dataclass
class ImageProblem:
    """Images: the ConvNetClassifier that :func:`deepzoo.tasks.images.choose_model` chooses for the
    fitting part, :func:`deepzoo.tasks.images.search_space` (learning rate, image size, augmentation);
    the final road is images.run with the changed settings under ``--set``. Here rather than in
    images.py for now (its fine-tuning is being rewritten beside this): move it there as its KIND's
    ``tune``."""

    config: FitConfig
    X_fit: object  # images as arrays (n, C, H, W) or lists of files
    y_fit: np.ndarray
    X_val: object
    y_val: np.ndarray
    n_train: int
    mode: str
    size: tuple
    default: object  # the chosen ConvNetClassifier (--set on top), unfitted
    metric: str
    direction: str
    model_name: str = "the ConvNetClassifier"
    tuned_row: str = "the network's row"

    @property
    def n_fit(self) -> int:
        return len(self.y_fit)

    @property
    def n_val(self) -> int:
        return len(self.y_val)

    @property
    def extra_names(self) -> tuple:
        """The task's own options (approach, on_error, pool_splits): ``--set`` names beside the network's."""
        from . import images

        return tuple(images.OPTIONS)

    def estimator(self):
        return self.default

    def default_trial(self) -> dict:
        from . import images

        return images.default_trial(self.default)

    def settings(self, trial) -> dict:
        from . import images

        fixed = tuple(self.config.settings)
        return images.tuned_settings(images.search_space(trial, self.default, fixed), self.default)

    def _inputs(self, X, clf):
        from ..data import images as image_io

        if isinstance(X, np.ndarray):
            return X
        mode = "RGB" if clf.pretrained or clf.weights is not None else self.mode
        size = tuple(clf.image_size) if clf.image_size is not None else self.size
        return image_io.decode_files(X, mode, size)[0]

    def score(self, settings: dict, on_epoch) -> tuple[float, int]:
        from sklearn.base import clone

        from ..engine.training import epoch_callback
        from .base import classification_scores

        clf = clone(self.default).set_params(**settings, verbose=False)
        with epoch_callback(on_epoch), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(self._inputs(self.X_fit, clf), self.y_fit)
        proba = clf.predict_proba(self._inputs(self.X_val, clf))
        return float(classification_scores(self.y_val, proba, clf.classes_)[self.metric]), int(clf.n_iter_)

    def final(self, source, report, changed: dict) -> Outcome:
        from . import images

        settings = {**images.tuned_settings(changed, self.default), **self.config.settings}
        return images.run(source, dataclasses.replace(self.config, settings=settings), report)

    @classmethod
    def build(cls, source, config: FitConfig, report) -> ImageProblem:
        """The training images of ``source`` (the test images dropped), a validation part carved out."""
        from ..data.splits import holdout
        from . import images

        options = {key: config.settings.get(key, values[0]) for key, values in images.OPTIONS.items()}
        data = images.load(source, config, on_error=options["on_error"], pool_splits=options["pool_splits"])
        fit, val, _, _ = holdout(data.y_train, VALIDATION_FRACTION, config.seed)

        def take(X, rows):
            return X[rows] if isinstance(X, np.ndarray) else [X[i] for i in rows]

        carved = dataclasses.replace(
            data,
            X_train=take(data.X_train, fit),
            y_train=data.y_train[fit],
            X_test=[],
            y_test=data.y_train[:0],
        )
        default, _ = images.choose_model(
            carved, approach=options["approach"], seed=config.seed, device=config.device
        )
        network = {k: v for k, v in config.settings.items() if k not in images.OPTIONS}
        default.set_params(**network)
        metric, direction = tuning_metric("classify", len(np.unique(data.y_train)))
        return cls(
            config,
            carved.X_train,
            carved.y_train,
            take(data.X_train, val),
            data.y_train[val],
            len(data.y_train),
            data.mode,
            data.size,
            default,
            metric,
            direction,
        )


class _Pruned(Exception):
    """Raised inside a trial's fit to stop it; turned into Optuna's PRUNED state."""

    def __init__(self, epochs: int, why: str):
        super().__init__(why)
        self.epochs, self.why = epochs, why


def _run_trials(study, problem: Problem, n_trials: int | None, deadline: float | None, say=None) -> None:
    """Ask ``study`` for trials and run them until ``n_trials`` have finished (completed or pruned,
    counted in the shared study, so several processes stop together) or the wall-clock ``deadline``
    (``time.time()``) passes. Under torchrun every process calls this; process 0 alone holds ``study``
    (the others pass None) and sends each trial's settings and each prune decision to the others."""
    import optuna

    main = study is not None
    sign = 1.0 if problem.direction == "minimize" else -1.0  # the pruner reads losses in the study's sense
    while True:
        trial, settings = None, None
        if main:
            done = _finished(study)
            if (n_trials is None or done < n_trials) and (deadline is None or time.time() < deadline):
                trial = study.ask()
                settings = problem.settings(trial)
        settings = distributed.broadcast_object(settings)
        if settings is None:
            return

        def on_epoch(epoch: int, history: dict, trial=trial) -> None:
            why = None
            if main:
                # the time budget never stops a trial while none has completed: there would be no
                # settings to fit in the end (the defaults, trial 0, may outlast a short budget)
                if deadline is not None and time.time() > deadline and _best(study) is not None:
                    why = _TIME_RAN_OUT
                elif history.get("val_loss"):
                    trial.report(sign * history["val_loss"][-1], epoch)
                    if trial.should_prune():
                        why = "its validation loss was behind the median of earlier trials"
            why = distributed.broadcast_object(why)
            if why is not None:
                raise _Pruned(epoch + 1, why)

        with stopwatch() as seconds:
            try:
                value, epochs = problem.score(settings, on_epoch)
                state, note = optuna.trial.TrialState.COMPLETE, ""
            except _Pruned as stop:
                value, epochs = None, stop.epochs
                state, note = optuna.trial.TrialState.PRUNED, stop.why
            except TRIAL_ERRORS as exc:
                value, epochs = None, 0
                state, note = optuna.trial.TrialState.FAIL, str(exc).splitlines()[0]
            except BaseException:
                if main:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                raise
        if main:
            trial.set_user_attr("epochs", epochs)
            trial.set_user_attr("seconds", round(seconds(), 3))
            if note:
                trial.set_user_attr("note", note)
            if value is not None and not math.isfinite(value):
                value, state = None, optuna.trial.TrialState.FAIL
            study.tell(trial, value if state == optuna.trial.TrialState.COMPLETE else None, state=state)
            if say is not None:
                say(study, trial.number, state, value, epochs, seconds())


def _finished(study) -> int:
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


# -- the study -----------------------------------------------------------------------------------------
def _storage(path: Path):
    import optuna

    # several --tune-jobs processes write to one SQLite file: wait for its lock instead of failing
    return optuna.storages.RDBStorage(f"sqlite:///{path}", engine_kwargs={"connect_args": {"timeout": 120}})


def _sampler(seed: int):
    import optuna

    return optuna.samplers.TPESampler(seed=seed)


def _pruner():
    import optuna

    return optuna.pruners.MedianPruner(
        n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=PRUNER_WARMUP_EPOCHS
    )


def open_study(path: Path, direction: str, seed: int, resume: bool, first: list[dict]):
    """The study in ``path`` (SQLite): continued with ``resume`` (trials left running by an interrupted
    run are marked failed), else started afresh with the ``first`` parameter sets enqueued."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path.parent.mkdir(parents=True, exist_ok=True)
    if resume and path.exists():
        study = optuna.load_study(
            study_name=STUDY_NAME, storage=_storage(path), sampler=_sampler(seed), pruner=_pruner()
        )
        if study.direction.name.lower() != direction:
            raise ValueError(
                f"The study in {path} {study.direction.name.lower()}s its metric, this run would "
                f"{direction} it: it was made for other data. Delete it or fit without --resume."
            )
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        return study
    path.unlink(missing_ok=True)  # a fit without --resume starts its run folder over, the study too
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=_storage(path),
        sampler=_sampler(seed),
        pruner=_pruner(),
        direction=direction,
    )
    for params in first:
        study.enqueue_trial(params, skip_if_exists=True)
    return study


def _worker(path: str, problem: Problem, n_trials: int | None, deadline: float | None, index: int) -> None:
    """One ``--tune-jobs`` process: its own TPE seed, its share of the CPU threads, the shared study."""
    import optuna
    import torch

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // problem.config.tune_jobs))
    study = optuna.load_study(
        study_name=STUDY_NAME,
        storage=_storage(Path(path)),
        sampler=_sampler(problem.config.seed + index),
        pruner=_pruner(),
    )
    _run_trials(study, problem, n_trials, deadline)


def _run_jobs(study, path: Path, problem: Problem, n_trials, deadline, say) -> None:
    """``--tune-jobs K``: K - 1 spawned processes and this one share the study."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import torch

    jobs = problem.config.tune_jobs
    if jobs == 1:
        _run_trials(study, problem, n_trials, deadline, say)
        return
    context = multiprocessing.get_context("spawn")  # forking a process that holds torch threads hangs
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // jobs))
    try:
        with ProcessPoolExecutor(jobs - 1, mp_context=context) as pool:
            futures = [
                pool.submit(_worker, str(path), problem, n_trials, deadline, k) for k in range(1, jobs)
            ]
            _run_trials(study, problem, n_trials, deadline, say)
            for future in futures:
                future.result()
    finally:
        torch.set_num_threads(before)


# -- the road --------------------------------------------------------------------------------------------
def run(kind, source, config: FitConfig, report) -> Outcome:
    """Tune the deep model of ``source`` (data of ``kind``) on its training rows, then run the kind's
    road with the best settings (scored once on the test rows) and add the tuning section to
    ``report``."""
    # the table's Problem lives here (this module imports table.py, which cannot name it back); so does
    # the images' for now
    build = {"table": TableProblem.build, "images": ImageProblem.build}.get(kind.name, kind.tune)
    if build is None:
        raise ValueError(
            f"--tune cannot search the settings of {kind.name} data yet. Fit without --tune and change "
            "settings with --set."
        )
    problem = build(source, config, report)
    check(config, problem.estimator(), getattr(problem, "extra_names", ()))
    path = Path(config.out) / "optuna.db"
    # under torchrun the processes talk before the first fit would join them: join them now
    distributed.ensure_initialized(distributed.device_for_rank(resolve_device(config.device)))
    main = distributed.is_main_process()
    first = {k: v for k, v in problem.default_trial().items() if k not in config.settings}
    study = open_study(path, problem.direction, config.seed, config.resume, [first]) if main else None
    distributed.barrier()
    deadline = None if config.tune_time is None else time.time() + float(config.tune_time)
    say = _say if config.verbose and main else None
    with stopwatch() as seconds:
        _run_jobs(study, path, problem, config.tune, deadline, say)
    best = distributed.broadcast_object(_best(study) if main else None)
    if best is None:
        raise ValueError(
            "No tuning trial completed (each was pruned or failed, e.g. diverged): allow more trials, or "
            "fix the settings that fail with --set."
        )
    # only what the best trial changed from the defaults: when the defaults (trial 0) win, the final fit
    # is the default one, weight decay chosen by cross-validation on small tables included
    changed = {k: v for k, v in best.params.items() if v != first.get(k)}
    outcome = problem.final(source, report, changed)
    if main:
        add_section(report, study, problem, seconds())
    return outcome


def _best(study):
    import optuna

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return study.best_trial if complete else None


def _say(study, number, state, value, epochs, seconds) -> None:
    from rich.console import Console

    shown = f"{value:.4f}" if value is not None else state.name.lower()
    best = _best(study)
    best_text = f" (best {best.value:.4f}, trial {best.number})" if best is not None else ""
    Console().print(f"trial {number}: {shown} after {epochs} epochs, {seconds:.1f} s{best_text}")


# -- the report ------------------------------------------------------------------------------------------
def trials_frame(study):
    """One row per trial: number, state, value (complete trials: a pruned one's would be its last
    reported loss), epochs, seconds, finished (s after the first started), params, note."""
    import optuna
    import pandas as pd

    trials = study.get_trials(deepcopy=False)
    if not trials:
        return pd.DataFrame()
    start = min(t.datetime_start for t in trials if t.datetime_start is not None)
    rows = []
    for t in trials:
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                "epochs": t.user_attrs.get("epochs"),
                "seconds": t.user_attrs.get("seconds"),
                "value": t.value if t.state == optuna.trial.TrialState.COMPLETE else None,
                "finished_s": (
                    None if t.datetime_complete is None else (t.datetime_complete - start).total_seconds()
                ),
                **{f"param_{k}": v for k, v in t.params.items()},
                "note": t.user_attrs.get("note", ""),
            }
        )
    return pd.DataFrame(rows)


def plot_trials(frame, metric: str, direction: str, ax=None):
    """Each finished trial's validation ``metric`` against the seconds since tuning began, the best so
    far as a step line, pruned trials as ticks at the bottom. Returns the Axes."""
    from matplotlib.figure import Figure

    if ax is None:
        ax = Figure(figsize=(5.4, 3.8), layout="constrained").add_subplot()
    done = frame[frame["state"] == "complete"].sort_values("finished_s")
    ax.scatter(done["finished_s"], done["value"], s=18, color="#4c72b0", label="trial", zorder=3)
    if len(done):
        best = done["value"].cummax() if direction == "maximize" else done["value"].cummin()
        ax.step(done["finished_s"], best, where="post", color="#dd8452", label="best so far")
    pruned = frame[frame["state"] == "pruned"]
    if len(pruned):
        ax.plot(
            pruned["finished_s"],
            np.zeros(len(pruned)),
            "|",
            color="#c44e52",
            markersize=12,
            transform=ax.get_xaxis_transform(),
            label=f"pruned ({len(pruned)})",
        )
    ax.set_title("Trials over time", fontsize=12, fontweight="bold", loc="left")
    ax.set_xlabel("seconds since tuning began")
    ax.set_ylabel(f"validation {metric}")
    ax.grid(True, color="#d0d4da", linewidth=0.7, alpha=0.7)
    ax.legend(frameon=False)
    return ax


def add_section(report, study, problem: Problem, seconds: float) -> None:
    """The report's tuning section: what was searched and how, trials over time, importances, the best
    trial's settings beside the defaults, every trial's row; figures in ``metrics.json``."""
    import optuna
    import pandas as pd

    frame = trials_frame(study)
    counts = frame["state"].value_counts()
    n_complete, n_pruned, n_failed = (int(counts.get(s, 0)) for s in ("complete", "pruned", "fail"))
    best = study.best_trial
    default = frame.loc[frame["trial"] == 0, "value"]
    default_value = None if default.empty or pd.isna(default.iloc[0]) else float(default.iloc[0])
    epochs = int(pd.to_numeric(frame["epochs"], errors="coerce").fillna(0).sum())
    n_timed = int((frame["note"] == _TIME_RAN_OUT).sum())
    reported = any(t.intermediate_values for t in study.get_trials(deepcopy=False))
    no_pruning = (
        ""
        if reported
        else " No trial reported a validation loss per epoch (under 300 training rows, or with "
        "early_stopping=False, the MLP holds out no validation part), so none could be pruned."
    )
    report.add_text(
        "Tuning",
        f"Optuna searched {problem.model_name}'s settings in {len(frame)} trials ({n_complete} complete, "
        f"{n_pruned - n_timed} pruned by MedianPruner, {n_timed} stopped when the tuning time ran out, "
        f"{n_failed} failed) in {seconds:.0f} s, with a TPE sampler seeded "
        f"{problem.config.seed} and the defaults as trial 0. Each trial trained on {problem.n_fit:,} "
        f"of the {problem.n_train:,} training rows and was scored ({problem.metric}) on the other "
        f"{problem.n_val:,}; the test rows were never shown to a trial: they were scored once, "
        f"at the end, for the chosen settings refitted on all the training rows (the leaderboard's "
        f"'{problem.tuned_row}'). Best: trial {best.number}, validation {problem.metric} "
        f"{best.value:.4f}" + ("" if default_value is None else f" (defaults: {default_value:.4f})") + ". "
        "The study is in optuna.db: 'deepzoo fit ... --tune N --resume' continues it, "
        "'optuna-dashboard optuna.db' explores it." + no_pruning,
    )
    report.add_figure(
        "tuning_trials",
        plot_trials(frame, problem.metric, problem.direction),
        "Validation score of each trial when it finished, and the best so far.",
    )
    defaults = problem.default_trial()
    chosen = pd.DataFrame(
        [{"parameter": k, "default": defaults.get(k), "best trial": v} for k, v in best.params.items()]
    )
    report.add_table("tuning_best", chosen.astype(str), f"The settings of trial {best.number}, refitted.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "too few trials": said in the caption instead
            importance = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError) as exc:  # no complete trial, or no parameter searched
        report.add_text("Parameter importances", f"Not computed: {exc}")
    else:
        table_ = pd.DataFrame({"parameter": list(importance), "importance": list(importance.values())})
        report.add_table(
            "tuning_importance",
            table_.round(4),
            "How much of the validation score's variation across trials each parameter explains "
            f"(Optuna's default evaluator, over {n_complete} complete trials; with under ~10 the "
            "figures are rough).",
        )
    report.add_table("tuning_trials", frame.round(5), "Every trial of the study.")
    report.add_metrics(
        tune_trials=len(frame),
        tune_complete=n_complete,
        tune_pruned=n_pruned - n_timed,
        tune_stopped_by_time=n_timed,
        tune_failed=n_failed,
        tune_seconds=seconds,
        tune_trial_epochs=epochs,
        tune_metric=problem.metric,
        tune_best_trial=best.number,
        tune_best_value=best.value,
        tune_default_value=default_value,
        tune_best_params=best.params,
    )
