"""DQNAgent against Stable-Baselines3's DQN on CartPole-v1, in one run, on the same seeds.

Three agents per seed, run one after the other so that they share whatever load the machine has;
each gets 50,000 environment steps and a [256, 256] MLP:

* ``sb3``       Stable-Baselines3 DQN with rl-baselines3-zoo's CartPole-v1 hyperparameters (lr 2.3e-3,
                batch 64, buffer 100,000, learning_starts 1000, gamma 0.99, target update every 10
                steps, train_freq 256, 128 gradient steps, exploration over 16% down to 0.04), run as
                a user runs it (torch's default number of threads);
* ``deepzoo``   DQNAgent as the cartpole case study runs it: its defaults (the zoo's values but lr
                1e-3, train_freq 64, 32 gradient steps, exploration over 25%), Double DQN, and early
                stopping: 5 greedy episodes in a second env every 2,500 steps and after any training
                episode of 475 or more; the best weights are kept and training stops once they score
                475. Those evaluation steps count in its 50,000;
* ``plain``     DQNAgent doing SB3's exact work: the zoo's values, plain DQN targets, no evaluations.

Each is then scored on the same 100 greedy evaluation episodes (seeds unseen in training). Reported:
the evaluation mean, the environment step at which the 100-episode training mean first reaches 475
("never" if it does not), the environment steps used, and the wall seconds of ``fit``/``learn``.

    pip install "torch==2.13.0" ".[bench]"
    python benchmarks/bench_dqn_cartpole.py             # 3 seeds, about 20 minutes on 2 CPU cores
    python benchmarks/bench_dqn_cartpole.py --seeds 0 --no-plain
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import gymnasium as gym
import numpy as np
import torch

from deepzoo import DQNAgent
from deepzoo.cases.cartpole import moving_mean_reaches

ENV_ID = "CartPole-v1"
TOTAL_TIMESTEPS = 50_000
ZOO = dict(
    learning_rate=2.3e-3,
    batch_size=64,
    buffer_size=100_000,
    learning_starts=1000,
    gamma=0.99,
    target_update_interval=10,
    train_freq=256,
    gradient_steps=128,
    exploration_fraction=0.16,
    exploration_final_eps=0.04,
)


def evaluate(policy, seed: int, n_episodes: int = 100) -> np.ndarray:
    """Rewards of ``n_episodes`` episodes of ``policy(obs) -> action``; the first reset takes ``seed``."""
    env = gym.make(ENV_ID)
    rewards = np.zeros(n_episodes)
    obs, _ = env.reset(seed=seed)
    for episode in range(n_episodes):
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            rewards[episode] += reward
            done = terminated or truncated
        obs, _ = env.reset()
    env.close()
    return rewards


def run_sb3(seed: int) -> dict:
    from stable_baselines3 import DQN

    model = DQN("MlpPolicy", gym.make(ENV_ID), policy_kwargs=dict(net_arch=[256, 256]), seed=seed, **ZOO)
    started = time.perf_counter()
    model.learn(TOTAL_TIMESTEPS)
    seconds = time.perf_counter() - started
    monitor = model.get_env().envs[0]  # SB3 wraps the env in its Monitor
    rewards = monitor.get_episode_rewards()
    ends = np.cumsum(monitor.get_episode_lengths())
    evaluation = evaluate(lambda obs: int(model.predict(obs, deterministic=True)[0]), 10_000 + seed)
    return dict(
        seconds=seconds,
        env_steps=TOTAL_TIMESTEPS,
        steps_to_475=moving_mean_reaches(rewards, ends, 475),
        eval_rewards=evaluation,
    )


def run_deepzoo(seed: int, plain: bool) -> dict:
    if plain:
        params = dict(ZOO, double_q=False, early_stopping=False)
    else:
        params = dict(double_q=True, early_stopping=True, eval_interval=2500, n_eval_episodes=5)
    agent = DQNAgent((256, 256), random_state=seed, device="cpu", **params)
    started = time.perf_counter()
    agent.fit(ENV_ID, TOTAL_TIMESTEPS)
    seconds = time.perf_counter() - started
    history = agent.history_
    _, _, evaluation = agent.evaluate(ENV_ID, 100, seed=10_000 + seed)
    return dict(
        seconds=seconds,
        env_steps=agent.num_timesteps_ + agent.num_eval_timesteps_,
        steps_to_475=moving_mean_reaches(history["episode_reward"], history["episode_end"], 475),
        eval_rewards=evaluation,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-plain", action="store_true", help="skip DQNAgent with SB3's exact settings")
    parser.add_argument("--agents", nargs="+", choices=["sb3", "deepzoo", "plain"], help="run only these")
    parser.add_argument("--sb3-threads", type=int, help="torch threads for SB3 (default: torch's own)")
    parser.add_argument("--timesteps", type=int, default=50_000, help="training steps (the zoo's 50,000)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    global TOTAL_TIMESTEPS
    TOTAL_TIMESTEPS = args.timesteps

    import stable_baselines3

    agents = args.agents or ["sb3", "deepzoo"] + ([] if args.no_plain else ["plain"])
    if args.sb3_threads:
        torch.set_num_threads(args.sb3_threads)  # DQNAgent picks its own (one thread for this net)
    print(
        f"{platform.platform()} | {os.cpu_count()} CPUs | Python {platform.python_version()} | torch "
        f"{torch.__version__} (threads {torch.get_num_threads()}) | SB3 {stable_baselines3.__version__} | "
        f"gymnasium {gym.__version__}",
        flush=True,
    )
    rows = []
    for seed in args.seeds:
        for name in agents:
            load_before = os.getloadavg()[0]
            result = run_sb3(seed) if name == "sb3" else run_deepzoo(seed, plain=name == "plain")
            result.update(agent=name, seed=seed, load=(load_before, os.getloadavg()[0]))
            rows.append(result)
            rewards = result["eval_rewards"]
            print(
                f"{name:8s} seed {seed}: eval {rewards.mean():6.1f} ± {rewards.std():5.1f}  steps to 475 "
                f"{result['steps_to_475'] or 'never'}  env steps {result['env_steps']}  "
                f"{result['seconds']:6.1f} s  (load {result['load'][0]:.1f} -> {result['load'][1]:.1f})",
                flush=True,
            )

    header = (
        "agent | seed | eval reward (100 ep.) | ≥ 475 | steps to training mean ≥ 475 | env steps | wall s"
    )
    print(f"\n| {header} |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        rewards = r["eval_rewards"]
        print(
            f"| {r['agent']} | {r['seed']} | {rewards.mean():.1f} ± {rewards.std():.1f} | "
            f"{'yes' if rewards.mean() >= 475 else 'no'} | {r['steps_to_475'] or 'never'} | "
            f"{r['env_steps']:,} | {r['seconds']:.1f} |"
        )
    seconds = {name: sum(r["seconds"] for r in rows if r["agent"] == name) for name in agents}
    solved = {
        name: sum(r["eval_rewards"].mean() >= 475 for r in rows if r["agent"] == name) for name in agents
    }
    print()
    for name in agents:
        ratio = f"; wall-time ratio to sb3 {seconds[name] / seconds['sb3']:.3f}" if "sb3" in seconds else ""
        count = f"{solved[name]}/{len(args.seeds)}"
        print(f"{name}: {count} seeds with eval ≥ 475; {seconds[name]:.1f} s in all{ratio}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                [{**r, "eval_rewards": r["eval_rewards"].tolist()} for r in rows], f, indent=1, default=str
            )


if __name__ == "__main__":
    main()
