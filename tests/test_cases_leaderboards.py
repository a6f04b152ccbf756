"""The case studies without a kind of ``deepzoo fit`` (GAN, DQN, language model, video) write a leaderboard:
their deep model beside baselines and trivial answers, and a verdict that agrees with the figures."""

from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from deepzoo import cli
from deepzoo.report import RunReport
from deepzoo.tasks.base import Leaderboard
from deepzoo.tasks.boards import add_board

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# case -> (the board's main metric, higher is better)
OFFLINE = {
    "digits_gan": ("fd", False),
    "cartpole": ("mean_reward", True),
    "moving_digits": ("mse_per_frame", False),
}
SHARED_DATA = {
    "apples": ("fd", False),
    "text_generation": ("perplexity", False),
    "moving_mnist": ("mse_per_frame", False),
    "motion": ("accuracy", True),
}
# metric names each case wrote before it had a board (tests and benchmarks/RESULTS.md read them)
KEPT = {
    "digits_gan": {"fd", "fd_untrained", "diversity", "fd_ratio", "fit_seconds", "epochs", "digits_drawn"},
    "apples": {"fd", "fd_untrained", "diversity", "fd_ratio", "fit_seconds", "n_images", "fd_classifier"},
    "cartpole": {"mean_reward", "std_reward", "env_steps", "fit_seconds", "solved"},
    "text_generation": {"perplexity", "unigram_perplexity", "fit_seconds", "vocabulary_size"},
    "moving_digits": {"mse_per_frame", "ssim", "baseline_black_mse_per_frame", "fit_seconds"},
    "moving_mnist": {"mse_per_frame", "ssim", "baseline_last_frame_mse_per_frame", "fit_seconds"},
    "motion": {"accuracy", "baseline_single_frame_accuracy", "fit_seconds"},
}


def run_quick(name, out) -> dict:
    result = runner.invoke(cli.app, ["run", name, "--quick", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return json.loads((out / "metrics.json").read_text())


def verdict(out) -> str:
    page = (out / "report.html").read_text()
    found = re.search(r"Verdict</h2>\s*<p>(.*?)</p>", page, re.S)
    assert found, "the report has no verdict"
    return html.unescape(found.group(1))


def check_board(name, out, metrics):
    primary, higher = {**OFFLINE, **SHARED_DATA}[name]
    assert KEPT[name] <= set(metrics)
    table = pd.read_csv(out / "tables" / "leaderboard.csv")
    assert (out / "figures" / "leaderboard.png").is_file()
    deep, others = table[table["kind"] == "deep"], table[table["kind"] != "deep"]
    assert len(deep) == 1 and len(others) >= 1 and set(others["kind"]) <= {"baseline", "trivial"}
    # the table and metrics.json carry the same figures (the table rounds to 4 decimals)
    assert deep[primary].iloc[0] == pytest.approx(metrics[primary], abs=1e-4)
    named = sorted(v for k, v in metrics.items() if re.fullmatch(rf"baseline_\w+_{primary}", k))
    shown = sorted(others[primary].dropna())
    assert shown == pytest.approx(named, abs=1e-4)
    # the verdict names the winner the figures name; a tie (to the 4 digits it prints) is no win
    deep_value = metrics[primary]
    best = max(named) if higher else min(named)
    tie = f"{deep_value:.4g}" == f"{best:.4g}"
    wins = not tie and (deep_value > best if higher else deep_value < best)
    said = verdict(out)
    if wins:
        assert f"{deep['model'].iloc[0]} wins on {primary}" in said, said
        assert table["kind"].iloc[0] == "deep"  # best first
    elif tie:
        assert said.startswith(f"A tie on {primary}"), said
    else:
        assert said.startswith("A baseline wins"), said
        assert table["kind"].iloc[0] != "deep"


@pytest.mark.slow  # 8-50 s each on the shared 2-core CPU
@pytest.mark.parametrize("name", sorted(OFFLINE))
def test_offline_case_writes_a_leaderboard(name, tmp_path):
    out = tmp_path / name
    check_board(name, out, run_quick(name, out))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHARED_DATA))
def test_shared_data_case_writes_a_leaderboard(name, shared_data_dir, tmp_path):
    out = tmp_path / name
    check_board(name, out, run_quick(name, out))


# -- the pieces, fast -------------------------------------------------------------------------------------
def _board(deep: float, baseline: float) -> Leaderboard:
    board = Leaderboard("perplexity")
    board.add("LSTM (deepzoo)", {"perplexity": deep}, 1.0, key="lstm", role="deep")
    board.add("bigram", {"perplexity": baseline}, 0.0, key="bigram")
    return board


def test_add_board_keeps_the_case_metrics_and_adds_the_baselines(tmp_path):
    report = RunReport(tmp_path, "t")
    metrics = add_board(report, _board(150.0, 100.0), {"perplexity": 150.0, "unigram_perplexity": 300.0})
    assert list(metrics) == ["perplexity", "unigram_perplexity", "baseline_bigram_perplexity", "fit_seconds"]
    assert report.metrics["baseline_bigram_perplexity"] == 100.0
    report.write()
    assert verdict(tmp_path).startswith("A baseline wins: bigram reaches perplexity 100")
    assert (tmp_path / "tables" / "leaderboard.csv").is_file()


def test_add_board_refuses_a_figure_the_case_names_otherwise(tmp_path):
    with pytest.raises(AssertionError, match="disagree on \\['perplexity'\\]"):
        add_board(RunReport(tmp_path, "t"), _board(150.0, 100.0), {"perplexity": 151.0})


def test_bigram_matches_a_hand_computed_probability():
    from deepzoo.cases.text_generation import BigramModel

    vocabulary = ("<pad>", "<unk>", "<eos>", "a", "b")
    model = BigramModel(vocabulary).fit([["a", "b"], ["a"]])
    # stream a b <eos> a <eos>; unigram (c + 1) / (5 + 4); contexts: <eos> 2 (1 follower), a 2 (2)
    p_a = (2 - 0.75) / 2 + 0.75 * 1 / 2 * 3 / 9  # p(a | <eos>)
    p_eos = (1 - 0.75) / 2 + 0.75 * 2 / 2 * 3 / 9  # p(<eos> | a)
    assert model.perplexity([["a"]]) == pytest.approx(math.exp(-(math.log(p_a) + math.log(p_eos)) / 2))
    # a word it never saw counts as <unk>, which the unigram gives (0 + 1) / 9
    assert model.perplexity([["zzz"]]) > model.perplexity([["a"]])


def test_cartpole_rule_balances_and_random_pushes_do_not():
    from deepzoo.cases.cartpole import falling_side, policy_rewards

    rule, random = policy_rewards(falling_side, 3, seed=5), policy_rewards(None, 3, seed=5)
    assert random.mean() < 100 < rule.mean()
    assert np.array_equal(random, policy_rewards(None, 3, seed=5))  # seeded: the same episodes


def test_gaussian_mixture_draws_images_like_its_training_images():
    from sklearn.datasets import load_digits

    from deepzoo.cases.gan_common import mixture_samples

    X = load_digits().images[:300] / 16.0
    drawn = mixture_samples(X, 50, seed=0)
    assert drawn.shape == (50, 8, 8) and drawn.min() >= 0 and drawn.max() <= 1
    # closer to the training mean image than uniform noise is
    mean = X.mean(0)
    noise = np.random.default_rng(0).random((50, 8, 8))
    assert np.abs(drawn.mean(0) - mean).mean() < 0.5 * np.abs(noise.mean(0) - mean).mean()
