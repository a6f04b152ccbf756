"""Deep Q-network agent for gymnasium environments: DQN, Double DQN and dueling heads.

The agent learns the value Q(s, a) of each action from reward alone. ``DQNAgent.fit`` is the whole
algorithm, top to bottom: act epsilon-greedily, store the transition in a replay buffer, and every
``train_freq`` steps take ``gradient_steps`` minibatch steps on the Huber loss between Q(s, a) and
the TD target ``r + gamma * max_a' Q_target(s', a')`` (Double DQN: the online network picks a',
the target network values it), with a target network refreshed every ``target_update_interval``
steps (hard copy, or Polyak averaging with ``tau < 1``).

Speed on a CPU comes from keeping the replay buffer as preallocated tensors, writing each chunk of
``train_freq`` transitions with one copy, and one CPU thread for a small network.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import numbers
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..engine.base import Interval, TorchEstimator, local_torch_seed, numpy_out, resolve_device, seed_from
from ..engine.persistence import register
from ..engine.training import _cpu_threads_for, _progress, _save_atomic, make_optimizer

__all__ = ["DQNAgent", "QNetwork", "ReplayBuffer", "td_target"]

# a checkpoint is written at the end of the first episode after every this many environment steps
CHECKPOINT_EVERY = 5_000
HISTORY_KEYS = (
    "episode_reward",
    "episode_length",
    "episode_end",
    "loss",
    "loss_step",
    "eval_reward",
    "eval_step",
)


class QNetwork(nn.Module):
    """An MLP from an observation to one Q-value per action; ``dueling`` splits value and advantage."""

    def __init__(self, n_features: int, hidden_layer_sizes: tuple, n_actions: int, dueling: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.trunk = nn.Sequential(*layers)
        self.dueling = dueling
        if dueling:
            self.value = nn.Linear(width, 1)
            self.advantage = nn.Linear(width, n_actions)
        else:
            self.head = nn.Linear(width, n_actions)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h = self.trunk(obs)  # (N, H)
        if not self.dueling:
            return self.head(h)  # (N, A)
        advantage = self.advantage(h)  # (N, A)
        # mean-centred advantages make the split into value and advantage identifiable
        return self.value(h) + advantage - advantage.mean(1, keepdim=True)  # (N, A)


class ReplayBuffer:
    """The last ``size`` transitions as preallocated tensors on the training device (a ring)."""

    def __init__(self, size: int, n_features: int, device: torch.device):
        self.obs = torch.zeros(size, n_features, device=device)
        self.next_obs = torch.zeros(size, n_features, device=device)
        self.actions = torch.zeros(size, dtype=torch.long, device=device)
        self.rewards = torch.zeros(size, device=device)
        self.terminated = torch.zeros(size, device=device)
        self.size, self.pos, self.full = size, 0, False

    def __len__(self) -> int:
        return self.size if self.full else self.pos

    def fields(self) -> tuple[torch.Tensor, ...]:
        """(obs, actions, rewards, next_obs, terminated), the order of ``extend`` and ``sample``."""
        return self.obs, self.actions, self.rewards, self.next_obs, self.terminated

    def extend(self, obs, actions, rewards, next_obs, terminated) -> None:
        """Write a chunk of transitions (NumPy arrays) with one copy per field, wrapping around."""
        n = len(actions)
        if n == 0:
            return
        skip = max(0, n - self.size)  # a chunk longer than the buffer: only its end is kept
        where = (torch.arange(skip, n) + self.pos) % self.size
        where = where.to(self.obs.device)
        for store, values in zip(self.fields(), (obs, actions, rewards, next_obs, terminated)):
            store[where] = torch.as_tensor(values[skip:]).to(store.device, store.dtype)
        self.full = self.full or self.pos + n >= self.size
        self.pos = (self.pos + n) % self.size

    def state(self) -> dict:
        """The filled part of the buffer and its write position, for a checkpoint."""
        n = len(self)
        return {"fields": [field[:n].clone() for field in self.fields()], "pos": self.pos, "full": self.full}

    def load_state(self, state: dict) -> None:
        """Restore what ``state()`` returned."""
        for store, saved in zip(self.fields(), state["fields"]):
            store[: len(saved)] = saved
        self.pos, self.full = state["pos"], state["full"]

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        """A minibatch drawn uniformly with replacement, fields in the order of ``fields()``."""
        idx = torch.randint(len(self), (batch_size,), generator=generator, device=self.obs.device)
        return tuple(field[idx] for field in self.fields())


@torch.no_grad()
def td_target(rewards, next_obs, terminated, *, gamma: float, target_net: nn.Module, online_net=None):
    """``r + gamma * (1 - terminated) * Q_target(s', a*)`` for a batch of transitions.

    DQN takes ``a* = argmax_a Q_target(s', a)``; Double DQN (``online_net`` given) lets the online
    network pick ``a* = argmax_a Q_online(s', a)`` and the target network value it, which curbs
    the overestimation of the max. ``terminated`` is 1 only where the episode truly ended: a
    time-limit truncation still bootstraps from ``s'``.
    """
    q_next = target_net(next_obs)  # (B, A)
    if online_net is None:
        next_value = q_next.max(1).values  # (B,)
    else:
        best = online_net(next_obs).argmax(1, keepdim=True)  # (B, 1)
        next_value = q_next.gather(1, best).squeeze(1)  # (B,)
    return rewards + gamma * (1.0 - terminated) * next_value


# -- environments -----------------------------------------------------------------------------------
def _make_env(env, caller: str):
    """(env, made_here): an env id is made with gymnasium.make; an Env instance is used as it is."""
    import gymnasium as gym

    if isinstance(env, str):
        try:
            return gym.make(env), True
        except gym.error.Error as exc:
            close = difflib.get_close_matches(env, list(gym.registry), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"Unknown environment id {env!r} ({exc}).{hint} Pass a registered gymnasium id such as "
                "'CartPole-v1' (see gymnasium.registry), or an Env instance."
            ) from exc
    if isinstance(env, gym.Env):
        return env, False
    raise TypeError(
        f"{caller} expects a gymnasium environment or its id such as 'CartPole-v1'; got "
        f"{type(env).__name__}. Pass gymnasium.make('CartPole-v1') or the string 'CartPole-v1'."
    )


def _check_spaces(env) -> tuple[int, int]:
    """(n_features, n_actions) of an env with a Discrete action space and a flat Box observation."""
    from gymnasium import spaces

    name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    act, obs = env.action_space, env.observation_space
    if not isinstance(act, spaces.Discrete):
        kind = "continuous" if isinstance(act, spaces.Box) else type(act).__name__
        raise ValueError(
            f"DQNAgent needs a discrete action space (gymnasium.spaces.Discrete); {name} has {kind} "
            f"actions {act}. Discretise them with gymnasium.wrappers.DiscretizeAction, or use an "
            "algorithm for continuous actions (e.g. SAC or TD3)."
        )
    if int(act.start) != 0:
        raise ValueError(
            f"DQNAgent expects actions numbered from 0; {name} has {act}. Shift them with a "
            "gymnasium.ActionWrapper that adds the start."
        )
    if not isinstance(obs, spaces.Box):
        raise ValueError(
            f"DQNAgent needs a flat vector observation (a 1-D gymnasium.spaces.Box); {name} observes "
            f"{obs}. Wrap the env with gymnasium.wrappers.FlattenObservation (one-hot for Discrete)."
        )
    if len(obs.shape) != 1:
        image = len(obs.shape) == 3 or (len(obs.shape) == 2 and obs.dtype == np.uint8)
        what = "image observations" if image else f"observations of shape {obs.shape}"
        raise ValueError(
            f"DQNAgent supports flat vector observations of shape (n_features,); {name} has {what} "
            f"({obs}), which this multilayer Q-network cannot use. Flatten small arrays with "
            "gymnasium.wrappers.FlattenObservation; images need a convolutional Q-network."
        )
    return int(obs.shape[0]), int(act.n)


def _np_random(env):
    return env.unwrapped.np_random


@register
class DQNAgent(TorchEstimator):
    """Deep Q-network agent for gymnasium environments with discrete actions and vector observations.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Width of each hidden layer of the Q-network (ReLU).
    dueling : bool, default=False
        Separate value and advantage heads (Wang et al., 2016).
    double_q : bool, default=True
        Double DQN targets: the online network picks the next action, the target network values it
        (van Hasselt et al., 2016). False gives the original DQN target.
    learning_rate : float, default=1e-3
        Adam's step size.
    batch_size : int, default=64
        Transitions per gradient step.
    buffer_size : int, default=100_000
        Transitions the replay buffer holds; the oldest are overwritten.
    learning_starts : int, default=1000
        Environment steps of purely random actions before learning starts (the warm-up).
    gamma : float, default=0.99
        Discount factor.
    train_freq : int, default=64
        Environment steps between two training phases.
    gradient_steps : int, default=32
        Gradient steps per training phase.
    target_update_interval : int, default=10
        Environment steps between two target-network updates.
    tau : float, default=1.0
        1.0 copies the online network into the target network (hard update); smaller values
        average it in (Polyak): ``target = tau * online + (1 - tau) * target``.
    exploration_fraction : float, default=0.25
        Share of ``total_timesteps`` over which epsilon falls linearly.
    exploration_initial_eps, exploration_final_eps : float, default=1.0, 0.04
        Epsilon (probability of a random action) at the start and after the fall.
    clip_grad_norm : float or None, default=10.0
        Largest gradient norm; None turns clipping off.
    early_stopping : bool, default=False
        Every ``eval_interval`` steps after the warm-up, play ``n_eval_episodes`` greedy episodes in
        a second copy of the environment; keep the weights of the best evaluation (restored at the
        end) and stop once it reaches ``reward_threshold``. DQN's policy often gets worse again after
        solving a task; this keeps the good one. The evaluation steps are counted in
        ``num_eval_timesteps_``, apart from ``total_timesteps``.
    eval_interval : int, default=2500
        Environment steps between two evaluations.
    n_eval_episodes : int, default=5
        Greedy episodes per evaluation.
    reward_threshold : float or None, default=None
        Mean evaluation reward at which training stops; None takes the environment's own
        (``env.spec.reward_threshold``, 475 for CartPole-v1) and never stops when it has none.
    verbose : bool, default=False
        Show a Rich progress bar with the mean reward of the last 100 episodes.
    device : str, default='auto'
        'auto' picks CUDA when present, else CPU.
    random_state : int, RandomState or None, default=None
        Seeds the network, the exploration, the minibatches and the environment's resets; the
        global RNGs are left as they were. Same seed and device: same agent.
    checkpoint : str or path, default=None
        File written atomically at the end of an episode every ~5,000 steps and when ``fit`` ends;
        with ``resume=True`` a killed ``fit`` continues from it to the same ``total_timesteps`` and
        ends where an uninterrupted run ends.
    resume : bool, default=False

    Attributes
    ----------
    module_ : QNetwork
        The online Q-network.
    n_features_in_ : int
        Length of an observation.
    n_actions_ : int
    env_id_ : str or None
        Id of the training environment, when it has one.
    num_timesteps_ : int
        Environment steps of training taken by ``fit``.
    num_eval_timesteps_ : int
        Environment steps of the greedy evaluations of ``early_stopping``.
    best_eval_reward_ : float or None
        Mean reward of the best evaluation, whose weights ``module_`` holds (None without evaluations).
    n_updates_ : int
        Gradient steps taken.
    history_ : dict of lists
        ``episode_reward``, ``episode_length`` and ``episode_end`` (the step it ended at) per training
        episode; ``loss`` (mean Huber loss) and ``loss_step`` per training phase; ``eval_reward`` and
        ``eval_step`` per evaluation of ``early_stopping``.

    Notes
    -----
    The defaults are rl-baselines3-zoo's CartPole-v1 settings with a lower learning rate (1e-3, not
    2.3e-3), shorter training phases (64 steps and 32 gradient steps, not 256 and 128: the same work
    per step on fresher data) and a longer exploration (25% of the run, not 16%), which solved
    CartPole on more seeds in our runs (``benchmarks/RESULTS.md``). ``fit`` uses one CPU thread for
    a network this small.

    Examples
    --------
    >>> from deepzoo import DQNAgent
    >>> agent = DQNAgent((32,), learning_starts=200, train_freq=50, gradient_steps=10, random_state=0)
    >>> agent = agent.fit("CartPole-v1", total_timesteps=1_000)
    >>> int(agent.predict([0.0, 0.0, 0.05, 0.0])) in (0, 1)
    True
    >>> mean, std, rewards = agent.evaluate("CartPole-v1", n_episodes=3, seed=0)
    >>> rewards.shape
    (3,)
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["int_tuple"],
        "dueling": [bool],
        "double_q": [bool],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "buffer_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_starts": [Interval(numbers.Integral, 0, None, closed="left")],
        "gamma": [Interval(numbers.Real, 0, 1, closed="both")],
        "train_freq": [Interval(numbers.Integral, 1, None, closed="left")],
        "gradient_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "target_update_interval": [Interval(numbers.Integral, 1, None, closed="left")],
        "tau": [Interval(numbers.Real, 0, 1, closed="right")],
        "exploration_fraction": [Interval(numbers.Real, 0, 1, closed="both")],
        "exploration_initial_eps": [Interval(numbers.Real, 0, 1, closed="both")],
        "exploration_final_eps": [Interval(numbers.Real, 0, 1, closed="both")],
        "clip_grad_norm": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "early_stopping": [bool],
        "eval_interval": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_eval_episodes": [Interval(numbers.Integral, 1, None, closed="left")],
        "reward_threshold": [Interval(numbers.Real, None, None), None],
        "verbose": [bool, Interval(numbers.Integral, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
        "checkpoint": [str, "pathlike", None],
        "resume": [bool],
    }
    _fitted_attributes = frozenset(
        {
            "n_features_in_",
            "n_actions_",
            "env_id_",
            "num_timesteps_",
            "num_eval_timesteps_",
            "n_updates_",
            "best_eval_reward_",
            "history_",
        }
    )

    def __init__(
        self,
        hidden_layer_sizes=(256, 256),
        *,
        dueling=False,
        double_q=True,
        learning_rate=1e-3,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1000,
        gamma=0.99,
        train_freq=64,
        gradient_steps=32,
        target_update_interval=10,
        tau=1.0,
        exploration_fraction=0.25,
        exploration_initial_eps=1.0,
        exploration_final_eps=0.04,
        clip_grad_norm=10.0,
        early_stopping=False,
        eval_interval=2500,
        n_eval_episodes=5,
        reward_threshold=None,
        verbose=False,
        device="auto",
        random_state=None,
        checkpoint=None,
        resume=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dueling = dueling
        self.double_q = double_q
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.buffer_size = buffer_size
        self.learning_starts = learning_starts
        self.gamma = gamma
        self.train_freq = train_freq
        self.gradient_steps = gradient_steps
        self.target_update_interval = target_update_interval
        self.tau = tau
        self.exploration_fraction = exploration_fraction
        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self.clip_grad_norm = clip_grad_norm
        self.early_stopping = early_stopping
        self.eval_interval = eval_interval
        self.n_eval_episodes = n_eval_episodes
        self.reward_threshold = reward_threshold
        self.verbose = verbose
        self.device = device
        self.random_state = random_state
        self.checkpoint = checkpoint
        self.resume = resume

    def _build_module(self) -> QNetwork:
        sizes = self.hidden_layer_sizes
        sizes = (int(sizes),) if isinstance(sizes, numbers.Integral) else tuple(int(s) for s in sizes)
        return QNetwork(self.n_features_in_, sizes, self.n_actions_, self.dueling)

    def _epsilon(self, step: int, total_timesteps: int) -> float:
        """Linear fall from the initial to the final epsilon over exploration_fraction of the run."""
        span = self.exploration_fraction * total_timesteps
        progress = min(1.0, step / span) if span > 0 else 1.0
        return self.exploration_initial_eps + progress * (
            self.exploration_final_eps - self.exploration_initial_eps
        )

    # -- the algorithm --------------------------------------------------------------------------------
    def fit(self, env, total_timesteps: int = 50_000) -> DQNAgent:
        """Learn from ``total_timesteps`` steps in ``env``.

        Parameters
        ----------
        env : str or gymnasium.Env
            A registered id such as ``'CartPole-v1'`` (made, used and closed here) or an Env with a
            ``Discrete`` action space and a 1-D ``Box`` observation space.
        total_timesteps : int, default=50_000
            Environment steps in all, the ``learning_starts`` random ones included.

        Returns
        -------
        self : DQNAgent

        Raises
        ------
        ValueError
            For continuous actions, image or other non-flat observations, an unknown env id,
            ``total_timesteps`` not above ``learning_starts``, a foreign checkpoint, or a diverging loss.
        """
        self._check_params()
        if not isinstance(total_timesteps, numbers.Integral) or isinstance(total_timesteps, bool):
            raise TypeError(f"total_timesteps must be an int; got {type(total_timesteps).__name__}.")
        if total_timesteps <= self.learning_starts:
            raise ValueError(
                f"total_timesteps={total_timesteps} is not larger than learning_starts="
                f"{self.learning_starts}: the agent would only take random warm-up steps and never learn. "
                f"Raise total_timesteps above {self.learning_starts} or lower learning_starts."
            )
        env, made_here = _make_env(env, "DQNAgent.fit")
        try:
            self.n_features_in_, self.n_actions_ = _check_spaces(env)
            self.env_id_ = env.spec.id if env.spec is not None else None
            device = resolve_device(self.device)
            seed = seed_from(self.random_state)
            eval_env = _copy_env(env) if self.early_stopping else None
            try:
                with local_torch_seed(seed, device):
                    self._run(env, eval_env, int(total_timesteps), device, seed)
            finally:
                if eval_env is not None:
                    eval_env.close()
        finally:
            if made_here:
                env.close()
        return self

    def _run(self, env, eval_env, total_timesteps: int, device: torch.device, seed: int) -> None:
        """The algorithm: act, store, learn, update the target, evaluate; sets the fitted attributes."""
        q_net = self._build_module().to(device)
        target_net = copy.deepcopy(q_net).requires_grad_(False)
        optimizer = make_optimizer(q_net, "adam", self.learning_rate)
        buffer = ReplayBuffer(self.buffer_size, self.n_features_in_, device)
        chunk = _Chunk(self.train_freq, self.n_features_in_)
        rng = np.random.default_rng(seed)  # exploration
        batches = torch.Generator(device).manual_seed(seed)  # minibatch indices
        history = {key: [] for key in HISTORY_KEYS}
        # the counters a checkpoint carries
        run = dict(step=0, n_updates=0, eval_steps=0, eval_updates=0, best_reward=-np.inf, best_state=None)
        threshold = self.reward_threshold
        if threshold is None and env.spec is not None:
            threshold = env.spec.reward_threshold  # e.g. 475 for CartPole-v1; None: never stop early
        ckpt = _Checkpoint(self, total_timesteps, seed, env)
        state = ckpt.load(device)
        if state is None:
            obs, _ = env.reset(seed=int(rng.integers(2**31)))
        else:
            q_net.load_state_dict(state["q_net"])
            target_net.load_state_dict(state["target_net"])
            optimizer.load_state_dict(state["optimizer"])
            buffer.load_state(state["buffer"])
            rng.bit_generator.state = state["rng"]
            batches.set_state(state["batches"])
            history = {k: list(v) for k, v in state["history"].items()}
            run = state["run"]
            _np_random(env).bit_generator.state = state["env_rng"]
            obs, _ = env.reset()
        step, last_saved, episode_reward, episode_length = run["step"], run["step"], 0.0, 0
        promising = False  # a training episode reached the threshold: evaluate the weights soon
        solved = threshold is not None and run["best_reward"] >= threshold
        progress = _progress(bool(self.verbose), total_timesteps, "DQNAgent")
        try:
            with _cpu_threads_for(q_net, self.batch_size, device):
                # the budget counts every environment step, those of the evaluations included
                while step + run["eval_steps"] < total_timesteps and not solved:
                    # act: random during the warm-up, then epsilon-greedy
                    epsilon = self._epsilon(step, total_timesteps)
                    if step < self.learning_starts or rng.random() < epsilon:
                        action = int(rng.integers(self.n_actions_))
                    else:
                        action = _greedy(q_net, obs, device)
                    next_obs, reward, terminated, truncated, _ = env.step(action)
                    # the true s' also at the end of an episode; only `terminated` stops bootstrapping
                    chunk.add(obs, action, reward, next_obs, terminated)
                    step += 1
                    episode_reward += float(reward)
                    episode_length += 1
                    obs = next_obs
                    if terminated or truncated:
                        history["episode_reward"].append(episode_reward)
                        history["episode_length"].append(episode_length)
                        history["episode_end"].append(step)
                        promising = threshold is not None and episode_reward >= threshold
                        episode_reward, episode_length = 0.0, 0
                        if progress is not None:
                            recent = np.mean(history["episode_reward"][-100:])
                            progress.update(
                                progress.task_ids[0], completed=step, status=f"reward {recent:.1f}"
                            )
                        if ckpt.path is not None and step - last_saved >= CHECKPOINT_EVERY:
                            buffer.extend(*chunk.flush())
                            run["step"] = step
                            ckpt.save(q_net, target_net, optimizer, buffer, rng, batches, history, run)
                            last_saved = step
                        obs, _ = env.reset()

                    # learn: every train_freq steps after the warm-up, gradient_steps minibatch steps
                    budget_left = total_timesteps - step - run["eval_steps"]
                    if step % self.train_freq == 0 or budget_left == 0:
                        buffer.extend(*chunk.flush())
                        if step > self.learning_starts:
                            losses = [
                                self._gradient_step(
                                    q_net, target_net, optimizer, buffer.sample(self.batch_size, batches)
                                )
                                for _ in range(self.gradient_steps)
                            ]
                            run["n_updates"] += self.gradient_steps
                            history["loss"].append(self._checked_loss(losses, step))
                            history["loss_step"].append(step)
                    if step % self.target_update_interval == 0:
                        _update_target(target_net, q_net, self.tau)

                    # early stopping: greedy episodes in a second env, every eval_interval steps and
                    # after a training episode that reached the threshold (once per set of weights);
                    # keep the best weights, stop when they reach the threshold
                    due = step % self.eval_interval == 0 or (
                        promising and run["n_updates"] > run["eval_updates"]
                    )
                    if self.early_stopping and step > self.learning_starts and due and budget_left > 0:
                        promising, run["eval_updates"] = False, run["n_updates"]
                        rewards, lengths = _play(
                            q_net, eval_env, self.n_eval_episodes, (seed + step) % 2**31, device, budget_left
                        )
                        run["eval_steps"] += int(lengths.sum())
                        if len(rewards) == self.n_eval_episodes:  # not cut short by the budget
                            history["eval_reward"].append(float(rewards.mean()))
                            history["eval_step"].append(step)
                            if rewards.mean() > run["best_reward"]:
                                run["best_reward"] = float(rewards.mean())
                                run["best_state"] = copy.deepcopy(q_net.state_dict())
                            solved = threshold is not None and run["best_reward"] >= threshold
        finally:
            if progress is not None:
                progress.update(progress.task_ids[0], completed=step)
                progress.stop()
        run["step"] = step
        if ckpt.path is not None and step > last_saved:
            buffer.extend(*chunk.flush())
            ckpt.save(q_net, target_net, optimizer, buffer, rng, batches, history, run)
        if run["best_state"] is not None:
            q_net.load_state_dict(run["best_state"])
        self.module_ = q_net.eval()
        self.history_ = history
        self.num_timesteps_ = step
        self.num_eval_timesteps_ = run["eval_steps"]
        self.n_updates_ = run["n_updates"]
        self.best_eval_reward_ = run["best_reward"] if run["best_state"] is not None else None

    def _checked_loss(self, losses: list[torch.Tensor], step: int) -> float:
        """The mean loss of a training phase; an error that says what to lower when it is not finite."""
        loss = float(torch.stack(losses).mean())
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"The TD loss became {loss} after {step} steps: training diverged. Lower learning_rate "
                f"(now {self.learning_rate:g}), set clip_grad_norm, or scale the rewards."
            )
        return loss

    def _gradient_step(self, q_net, target_net, optimizer, batch) -> torch.Tensor:
        """One Huber-loss step of Q(s, a) towards the TD target; returns the loss (a tensor)."""
        obs, actions, rewards, next_obs, terminated = batch
        target = td_target(
            rewards,
            next_obs,
            terminated,
            gamma=self.gamma,
            target_net=target_net,
            online_net=q_net if self.double_q else None,
        )
        q = q_net(obs).gather(1, actions[:, None]).squeeze(1)  # (B,)
        loss = F.smooth_l1_loss(q, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(q_net.parameters(), self.clip_grad_norm)
        optimizer.step()
        return loss.detach()

    # -- using the agent ------------------------------------------------------------------------------
    def _check_obs(self, obs) -> np.ndarray:
        try:
            obs = np.asarray(obs, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"DQNAgent.predict expects numeric observations; got {exc}.") from exc
        if obs.ndim not in (1, 2) or obs.shape[-1] != self.n_features_in_:
            raise ValueError(
                f"DQNAgent.predict expects one observation of shape ({self.n_features_in_},) or a batch of "
                f"shape (n_samples, {self.n_features_in_}); got shape {obs.shape}."
            )
        if not np.all(np.isfinite(obs)):
            raise ValueError("DQNAgent.predict got NaN or infinite observations; pass finite values.")
        return obs

    def q_values(self, obs) -> np.ndarray:
        """Q-value of each action for one observation or a batch.

        Parameters
        ----------
        obs : array-like of shape (n_features,) or (n_samples, n_features)

        Returns
        -------
        q : ndarray of shape (n_actions,) or (n_samples, n_actions)

        Examples
        --------
        >>> from deepzoo import DQNAgent
        >>> agent = DQNAgent((16,), learning_starts=100, train_freq=50, gradient_steps=5, random_state=0)
        >>> agent.fit("CartPole-v1", total_timesteps=300).q_values([[0, 0, 0, 0]]).shape
        (1, 2)
        """
        self._check_fitted()
        obs = self._check_obs(obs)
        device = next(self.module_.parameters()).device
        with torch.inference_mode():
            q = self.module_(torch.as_tensor(obs, device=device).reshape(-1, self.n_features_in_))
        q = numpy_out(q)
        return q[0] if obs.ndim == 1 else q

    def predict(self, obs):
        """Greedy action(s): the action with the largest Q-value.

        Parameters
        ----------
        obs : array-like of shape (n_features,) or (n_samples, n_features)

        Returns
        -------
        action : numpy int64 for one observation, ndarray of shape (n_samples,) for a batch

        Examples
        --------
        >>> from deepzoo import DQNAgent
        >>> agent = DQNAgent((16,), learning_starts=100, train_freq=50, gradient_steps=5, random_state=0)
        >>> agent.fit("CartPole-v1", total_timesteps=300).predict([[0, 0, 0, 0], [0, 0, 0.1, 0]]).shape
        (2,)
        """
        q = self.q_values(obs)
        return np.argmax(q, axis=-1).astype(np.int64)

    def evaluate(self, env, n_episodes: int = 100, seed: int | None = None):
        """Play ``n_episodes`` greedy episodes and return the mean, the std and every episode's reward.

        Parameters
        ----------
        env : str or gymnasium.Env
            The environment (id or instance) with the spaces the agent was trained on.
        n_episodes : int, default=100
        seed : int or None, default=None
            Seeds the first reset; the later resets follow from it, so a seed gives the same episodes.

        Returns
        -------
        mean, std : float
        rewards : ndarray of shape (n_episodes,)

        Examples
        --------
        >>> from deepzoo import DQNAgent
        >>> agent = DQNAgent((16,), learning_starts=100, train_freq=50, gradient_steps=5, random_state=0)
        >>> mean, std, rewards = agent.fit("CartPole-v1", 300).evaluate("CartPole-v1", 2, seed=1)
        >>> len(rewards)
        2
        """
        self._check_fitted()
        if not isinstance(n_episodes, numbers.Integral) or isinstance(n_episodes, bool) or n_episodes < 1:
            raise ValueError(f"n_episodes must be a positive int; got {n_episodes!r}.")
        env, made_here = _make_env(env, "DQNAgent.evaluate")
        try:
            spaces = _check_spaces(env)
            if spaces != (self.n_features_in_, self.n_actions_):
                raise ValueError(
                    f"The agent was trained with {self.n_features_in_} observation features and "
                    f"{self.n_actions_} actions; this environment has {spaces[0]} observation features and "
                    f"{spaces[1]} actions. "
                    f"Evaluate on the training environment ({self.env_id_ or 'the same spaces'})."
                )
            device = next(self.module_.parameters()).device
            rewards, _ = _play(self.module_, env, n_episodes, seed, device)
        finally:
            if made_here:
                env.close()
        return float(rewards.mean()), float(rewards.std()), rewards


@torch.inference_mode()
def _greedy(q_net: nn.Module, obs, device: torch.device) -> int:
    """The action with the largest Q-value for one observation."""
    return int(q_net(torch.as_tensor(obs, dtype=torch.float32, device=device)[None]).argmax())


def _play(q_net, env, n_episodes: int, seed, device, max_steps=None) -> tuple[np.ndarray, np.ndarray]:
    """(rewards, lengths) of the greedy episodes played to their end, at most ``n_episodes`` of them
    and ``max_steps`` steps in all (an episode cut short is left out); ``seed`` seeds the first reset."""
    rewards, lengths, steps = [], [], 0
    obs, _ = env.reset(seed=seed)
    for _ in range(n_episodes):
        total, length, done = 0.0, 0, False
        while not done and (max_steps is None or steps < max_steps):
            obs, reward, terminated, truncated, _ = env.step(_greedy(q_net, obs, device))
            total, length, steps = total + float(reward), length + 1, steps + 1
            done = terminated or truncated
        if not done:
            return np.asarray(rewards), np.asarray(lengths + [length], dtype=np.int64)
        rewards.append(total)
        lengths.append(length)
        obs, _ = env.reset()
    return np.asarray(rewards), np.asarray(lengths, dtype=np.int64)


def _copy_env(env):
    """A second env like ``env`` for evaluation: made again from its spec, else a deep copy."""
    import gymnasium as gym

    if env.spec is not None:
        try:
            return gym.make(env.spec)
        except (gym.error.Error, ValueError, TypeError):  # e.g. a wrapper that cannot be re-made
            pass
    return copy.deepcopy(env)


@torch.no_grad()
def _update_target(target_net: nn.Module, q_net: nn.Module, tau: float) -> None:
    """Hard copy (tau=1) or Polyak average of the online weights into the target network."""
    for target, online in zip(target_net.parameters(), q_net.parameters()):
        if tau == 1.0:
            target.copy_(online)
        else:
            target.lerp_(online, tau)


class _Chunk:
    """Transitions of the current ``train_freq`` steps in NumPy, written to the buffer in one copy."""

    def __init__(self, size: int, n_features: int):
        self.obs = np.zeros((size, n_features), np.float32)
        self.next_obs = np.zeros((size, n_features), np.float32)
        self.actions = np.zeros(size, np.int64)
        self.rewards = np.zeros(size, np.float32)
        self.terminated = np.zeros(size, np.float32)
        self.n = 0

    def add(self, obs, action, reward, next_obs, terminated) -> None:
        i = self.n
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, terminated
        self.n += 1

    def flush(self) -> tuple[np.ndarray, ...]:
        n, self.n = self.n, 0
        return self.obs[:n], self.actions[:n], self.rewards[:n], self.next_obs[:n], self.terminated[:n]


class _Checkpoint:
    """The training state of a fit in one file, written atomically; refused when it is another run's."""

    def __init__(self, agent: DQNAgent, total_timesteps: int, seed: int, env):
        self.path = None if agent.checkpoint is None else Path(agent.checkpoint)
        self.resume = agent.resume
        self.total_timesteps = total_timesteps
        params = agent.get_params(deep=False)
        for key in ("checkpoint", "resume", "verbose", "device"):
            params.pop(key)
        params["random_state"] = seed
        settings = repr((sorted(params.items()), agent.env_id_, agent.n_features_in_, agent.n_actions_))
        self.fingerprint = hashlib.sha256(settings.encode()).hexdigest()[:16]
        self.env = env
        if self.path is not None:  # a process killed while writing leaves its temporary file behind
            for stale in self.path.parent.glob(self.path.name + ".tmp*"):
                stale.unlink(missing_ok=True)

    def load(self, device: torch.device) -> dict | None:
        if self.path is None or not self.resume or not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location=device, weights_only=True)
        except Exception as exc:  # truncated or foreign file: say which and how to go on
            raise ValueError(
                f"The checkpoint {self.path} cannot be read ({exc}); delete it or fit with resume=False."
            ) from exc
        if not isinstance(state, dict) or state.get("fingerprint") != self.fingerprint:
            raise ValueError(
                f"The checkpoint {self.path} was written for another environment or other settings (or "
                "another seed: resuming needs a fixed random_state); delete it or fit with resume=False."
            )
        if state["total_timesteps"] != self.total_timesteps:
            raise ValueError(
                f"The checkpoint {self.path} belongs to a run of total_timesteps={state['total_timesteps']}; "
                f"got {self.total_timesteps}. Resume with the same total_timesteps, or fit with resume=False."
            )
        return state

    def save(self, q_net, target_net, optimizer, buffer, rng, batches, history, run) -> None:
        _save_atomic(
            {
                "fingerprint": self.fingerprint,
                "total_timesteps": self.total_timesteps,
                "q_net": q_net.state_dict(),
                "target_net": target_net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "buffer": buffer.state(),
                "rng": rng.bit_generator.state,
                "batches": batches.get_state(),
                "env_rng": _np_random(self.env).bit_generator.state,
                "history": history,
                "run": run,
            },
            self.path,
        )
