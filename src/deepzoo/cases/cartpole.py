"""Case study ``cartpole``: a deep Q-network learns to balance a pole from reward alone (offline).

gymnasium's CartPole-v1: push a cart left or right so that the pole on it stays up; +1 per step, at
most 500 steps; "solved" means an average of 475 or more over 100 episodes.

make the environment -> fit (DQNAgent) -> evaluate (100 greedy episodes) -> the leaderboard (the same
episodes played by a one-line rule, "push toward the side the pole falls", and by a random policy) ->
plot (rewards during training, the evaluation histogram, frames of one evaluated episode and a GIF) -> write.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine.persistence import save
from ..models.dqn import DQNAgent
from ..report import RunReport
from ..tasks.base import Leaderboard
from ..tasks.boards import add_board

ENV_ID = "CartPole-v1"
SOLVED = 475.0  # gymnasium's reward threshold of CartPole-v1 (mean over 100 episodes)


@dataclass
class Config:
    """Settings of the CartPole case study; every field can be overridden from the command line."""

    seed: int = 0
    """Seed of the network, the exploration, the replay minibatches and the environment."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'; this small network trains fastest on the CPU."""
    quick: bool = False
    """Tiny budgets for tests and smoke runs (the agent will not learn much)."""
    total_timesteps: int = 50_000
    """Environment steps at most, those of the greedy evaluations during training included."""
    hidden_layer_sizes: tuple = (256, 256)
    """Width of each hidden layer of the Q-network."""
    learning_rate: float = 1e-3
    """Adam's learning rate."""
    batch_size: int = 64
    """Transitions per gradient step."""
    buffer_size: int = 100_000
    """Transitions the replay buffer holds."""
    learning_starts: int = 1000
    """Random steps before learning starts."""
    gamma: float = 0.99
    """Discount factor."""
    train_freq: int = 64
    """Environment steps between two training phases."""
    gradient_steps: int = 32
    """Gradient steps per training phase."""
    target_update_interval: int = 10
    """Environment steps between two target-network copies."""
    exploration_fraction: float = 0.25
    """Share of the run over which epsilon falls from 1 to its final value."""
    exploration_final_eps: float = 0.04
    """Probability of a random action after the fall."""
    double_q: bool = True
    """Double DQN targets."""
    dueling: bool = False
    """Separate value and advantage heads."""
    early_stopping: bool = True
    """Greedy evaluations during training: keep the best weights and stop once they score 475."""
    eval_interval: int = 2500
    """Environment steps between two evaluations during training."""
    n_eval_episodes: int = 5
    """Greedy episodes per evaluation during training."""
    final_eval_episodes: int = 100
    """Greedy episodes of the final evaluation (CartPole's definition of solved uses 100)."""
    gif: bool = True
    """Also write episode.gif, the animation of one evaluated episode."""
    resume: bool = False
    """Continue an interrupted fit from the checkpoint in the run folder."""
    verbose: bool = False
    """Show a progress bar while training."""


def run(config: Config, out_dir) -> dict:
    """Run the case study into ``out_dir``; return its metrics."""
    if config.quick:
        config = dataclasses.replace(
            config,
            total_timesteps=min(config.total_timesteps, 1500),
            hidden_layer_sizes=(32,),
            learning_starts=min(config.learning_starts, 500),
            train_freq=min(config.train_freq, 100),
            gradient_steps=min(config.gradient_steps, 10),
            eval_interval=min(config.eval_interval, 500),
            n_eval_episodes=min(config.n_eval_episodes, 2),
            final_eval_episodes=min(config.final_eval_episodes, 3),
        )
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Balancing a pole from reward alone: a deep Q-network on CartPole",
        dataclasses.asdict(config),
        description="gymnasium's CartPole-v1: push the cart left or right so that the pole stays up "
        "(+1 per step, at most 500). A deep Q-network learns the value of each push from experience "
        "replay; CartPole counts as solved at an average of 475 over 100 episodes.",
    )
    agent = DQNAgent(
        tuple(config.hidden_layer_sizes),
        double_q=config.double_q,
        dueling=config.dueling,
        learning_rate=config.learning_rate,
        batch_size=config.batch_size,
        buffer_size=config.buffer_size,
        learning_starts=config.learning_starts,
        gamma=config.gamma,
        train_freq=config.train_freq,
        gradient_steps=config.gradient_steps,
        target_update_interval=config.target_update_interval,
        exploration_fraction=config.exploration_fraction,
        exploration_final_eps=config.exploration_final_eps,
        early_stopping=config.early_stopping,
        eval_interval=config.eval_interval,
        n_eval_episodes=config.n_eval_episodes,
        reward_threshold=SOLVED,
        verbose=config.verbose,
        device=config.device,
        random_state=config.seed,
        checkpoint=str(out_dir / "checkpoints" / "dqn.ckpt"),
        resume=config.resume,
    )
    started = time.perf_counter()
    agent.fit(ENV_ID, total_timesteps=config.total_timesteps)
    fit_seconds = time.perf_counter() - started
    # evaluation episodes start from seeds the training never used
    mean, std, rewards = agent.evaluate(ENV_ID, config.final_eval_episodes, seed=10_000 + config.seed)
    states = play_episode(agent, seed=10_000 + config.seed)

    history = agent.history_
    steps_to_solved = moving_mean_reaches(history["episode_reward"], history["episode_end"], SOLVED)
    metrics = dict(
        mean_reward=mean,
        std_reward=std,
        env_steps=agent.num_timesteps_ + agent.num_eval_timesteps_,
        fit_seconds=fit_seconds,
        train_steps=agent.num_timesteps_,
        eval_steps_during_fit=agent.num_eval_timesteps_,
        training_episodes=len(history["episode_reward"]),
        gradient_steps=agent.n_updates_,
        solved=bool(mean >= SOLVED),
        steps_to_training_mean_475=steps_to_solved,
    )
    board = policy_board(mean, std, fit_seconds, config.final_eval_episodes, seed=10_000 + config.seed)
    metrics = add_board(
        report,
        board,
        metrics,
        f"Mean reward over the same {config.final_eval_episodes} evaluation episodes (same starting states) "
        "for every policy; at most 500, solved at 475.",
    )
    report.add_history({k: v for k, v in history.items() if v})
    report.add_figure(
        "episode_rewards",
        plot_episode_rewards(history),
        "Reward of each training episode (epsilon-greedy), its 100-episode moving mean, the greedy "
        "evaluations during training, and the 475 line of 'solved'.",
    )
    report.add_figure(
        "evaluation_rewards",
        plot_evaluation_histogram(rewards),
        f"Rewards of {len(rewards)} greedy evaluation episodes of the final agent (at most 500 each).",
    )
    report.add_figure(
        "episode_frames",
        plot_frame_strip(states),
        f"Frames of the first evaluation episode ({len(states) - 1} steps), drawn from the cart's state.",
    )
    if config.gif:
        write_gif(states, out_dir / "episode.gif")
        report.add_text("Animation", "episode.gif beside this page animates the episode of the frames above.")
    save(agent, out_dir / "model")
    report.write()
    return metrics


# -- the policies beside it ----------------------------------------------------------------------------
def falling_side(obs) -> int:
    """A one-line controller, not tuned: push toward the side the pole falls (sign of angle + angular
    velocity); 1 pushes right."""
    return int(obs[2] + obs[3] > 0)


def policy_rewards(policy, n_episodes: int, seed: int) -> np.ndarray:
    """Rewards of ``n_episodes`` episodes of ``policy(obs) -> action``, seeded as ``DQNAgent.evaluate``
    seeds them (the first reset from ``seed``, the later ones following), so every policy meets the same
    starting states; ``policy=None`` draws random actions (from the action space, seeded too)."""
    import gymnasium as gym

    env = gym.make(ENV_ID)
    try:
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        rewards = []
        for _ in range(n_episodes):
            total, done = 0.0, False
            while not done:
                action = env.action_space.sample() if policy is None else policy(obs)
                obs, reward, terminated, truncated, _ = env.step(action)
                total, done = total + float(reward), terminated or truncated
            rewards.append(total)
            obs, _ = env.reset()
    finally:
        env.close()
    return np.asarray(rewards)


def policy_board(mean: float, std: float, fit_seconds: float, n_episodes: int, seed: int) -> Leaderboard:
    """The DQN's evaluation beside the one-line rule (classical control) and random pushes (trivial)."""
    board = Leaderboard(
        "mean_reward",
        advice="Give the agent more environment steps. CartPole itself needs no learning (a rule of the "
        "pole's angle and spin balances it); the DQN's point is to find such a policy from reward alone.",
    )
    board.add("DQN (deepzoo)", {"mean_reward": mean, "std_reward": std}, fit_seconds, key="dqn", role="deep")
    for name, policy, key, role in (
        ("push toward the falling side (one-line rule)", falling_side, "falling_side", "baseline"),
        ("random pushes", None, "random", "trivial"),
    ):
        rewards = policy_rewards(policy, n_episodes, seed)  # nothing to fit: 0 fit seconds
        scores = {"mean_reward": float(rewards.mean()), "std_reward": float(rewards.std())}
        board.add(name, scores, 0.0, key=key, role=role)
    return board


# -- what the agent did ---------------------------------------------------------------------------------
def play_episode(agent: DQNAgent, seed: int) -> np.ndarray:
    """States (x, x_dot, theta, theta_dot) of one greedy episode, the first one included."""
    import gymnasium as gym

    env = gym.make(ENV_ID)
    try:
        obs, _ = env.reset(seed=seed)
        states, done = [obs], False
        while not done:
            obs, _, terminated, truncated, _ = env.step(agent.predict(obs))
            states.append(obs)
            done = terminated or truncated
    finally:
        env.close()
    return np.asarray(states)


def moving_mean_reaches(rewards, ends, threshold: float, window: int = 100) -> int | None:
    """The environment step at which the mean of the last ``window`` episodes first reaches ``threshold``."""
    rewards = np.asarray(rewards, dtype=float)
    if len(rewards) < window:
        return None
    means = np.convolve(rewards, np.ones(window) / window, mode="valid")
    hits = np.flatnonzero(means >= threshold)
    return int(np.asarray(ends)[window - 1 + hits[0]]) if len(hits) else None


# -- pictures -------------------------------------------------------------------------------------------
def plot_episode_rewards(history: dict, ax=None):
    """Training rewards per episode against environment steps, with the 100-episode mean and 475."""
    from matplotlib.figure import Figure

    ax = ax if ax is not None else Figure(figsize=(7.2, 4.0), layout="constrained").add_subplot()
    ends = np.asarray(history["episode_end"])
    rewards = np.asarray(history["episode_reward"], dtype=float)
    ax.plot(ends, rewards, lw=0.8, alpha=0.45, color="#4c72b0", label="training episode")
    if len(rewards):
        window = min(100, len(rewards))
        means = np.convolve(rewards, np.ones(window) / window, mode="valid")
        ax.plot(ends[window - 1 :], means, lw=2.2, color="#4c72b0", label=f"mean of the last {window}")
    if history.get("eval_step"):
        ax.plot(
            history["eval_step"],
            history["eval_reward"],
            "o",
            ms=5,
            color="#dd8452",
            label="greedy evaluation",
        )
    ax.axhline(SOLVED, ls="--", lw=1.2, color="#55a868", label="solved (475)")
    ax.set_title("Episode reward during training", fontsize=12, fontweight="bold", loc="left")
    ax.set_xlabel("environment step")
    ax.set_ylabel("episode reward")
    ax.set_ylim(0, 520)
    ax.grid(True, color="#d0d4da", linewidth=0.7, alpha=0.7)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def plot_evaluation_histogram(rewards, ax=None):
    """Histogram of the greedy evaluation rewards, with their mean."""
    from matplotlib.figure import Figure

    ax = ax if ax is not None else Figure(figsize=(5.4, 3.8), layout="constrained").add_subplot()
    rewards = np.asarray(rewards, dtype=float)
    ax.hist(rewards, bins=np.linspace(0, 500, 26), color="#4c72b0", edgecolor="white")
    ax.axvline(
        rewards.mean(), color="#dd8452", lw=2, label=f"mean {rewards.mean():.1f} ± {rewards.std():.1f}"
    )
    ax.axvline(SOLVED, ls="--", lw=1.2, color="#55a868", label="solved (475)")
    ax.set_title(f"{len(rewards)} evaluation episodes", fontsize=12, fontweight="bold", loc="left")
    ax.set_xlabel("episode reward")
    ax.set_ylabel("episodes")
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def draw_frame(state, width: int = 360, height: int = 200):
    """One picture of CartPole's state (x, x_dot, theta, theta_dot) as a Pillow image.

    Drawn here from the state, so that no rendering library (pygame) is needed.
    """
    from PIL import Image, ImageDraw

    x, _, theta, _ = (float(v) for v in state)
    scale = width / 4.8  # the track spans x in [-2.4, 2.4]
    ground = int(height * 0.78)
    cx = width / 2 + x * scale
    pole = 1.0 * scale  # CartPole's pole is 1.0 long (half-length 0.5)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(0, ground), (width, ground)], fill=(120, 120, 120), width=2)
    draw.rectangle([cx - 24, ground - 18, cx + 24, ground], fill=(40, 40, 40))
    tip = (cx + pole * math.sin(theta), ground - 18 - pole * math.cos(theta))
    draw.line([(cx, ground - 18), tip], fill=(202, 152, 101), width=8)
    draw.ellipse([cx - 4, ground - 22, cx + 4, ground - 14], fill=(129, 132, 203))
    return image


def plot_frame_strip(states, n_frames: int = 8, ax=None):
    """``n_frames`` evenly spaced frames of an episode side by side, each titled with its step."""
    from matplotlib.figure import Figure

    picks = np.unique(np.linspace(0, len(states) - 1, n_frames).round().astype(int))
    if ax is None:
        figure = Figure(figsize=(1.6 * len(picks), 1.4), layout="constrained")
        axes = figure.subplots(1, len(picks), squeeze=False)[0]
    else:
        axes = [ax]
        picks = picks[-1:]
    for axis, step in zip(axes, picks):
        axis.imshow(np.asarray(draw_frame(states[step])))
        axis.set_title(f"step {step}", fontsize=9)
        axis.set_axis_off()
    return axes[0]


def write_gif(states, path, every: int = 2) -> Path:
    """An animated GIF of the episode (every ``every``-th state) in real time, written atomically."""
    import os

    path = Path(path)
    frames = [draw_frame(state) for state in states[::every]]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frames[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=20 * every,
            loop=0,  # CartPole steps 0.02 s
        )
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
