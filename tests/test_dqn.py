"""DQNAgent: the TD target against hand-computed numbers, learning, seeding, persistence, bad input."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from torch import nn

import deepzoo
from deepzoo import DQNAgent
from deepzoo.models import dqn as dqn_module
from deepzoo.models.dqn import QNetwork, ReplayBuffer, td_target

# a budget of a second or two: tiny network, few gradient steps
TINY = dict(
    hidden_layer_sizes=(16,),
    learning_starts=100,
    train_freq=50,
    gradient_steps=5,
    batch_size=16,
    device="cpu",
)


def tiny(**params) -> DQNAgent:
    return DQNAgent(**{**TINY, "random_state": 0, **params})


def weights(agent) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in agent.module_.parameters()]


# -- the TD target against a hand-computed batch (oracle) ------------------------------------------
def _linear(weight) -> nn.Linear:
    """A Q-'network' whose Q-values are weight @ obs: with one-hot observations, a lookup table."""
    layer = nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight, dtype=torch.float32))
    return layer


# three next states (one-hot rows); Q_target(s', .) and Q_online(s', .) per state:
#   s'0: target [1, 5]  online [2, 0]   (the nets disagree on the best action)
#   s'1: target [4, 2]  online [0, 3]
#   s'2: target [7, 3]  online [9, 1]
TARGET = [[1.0, 4.0, 7.0], [5.0, 2.0, 3.0]]  # weight rows = actions, columns = states
ONLINE = [[2.0, 0.0, 9.0], [0.0, 3.0, 1.0]]
NEXT_OBS = torch.eye(3)
REWARDS = torch.tensor([1.0, 0.0, -1.0])
TERMINATED = torch.tensor([0.0, 0.0, 1.0])


def test_td_target_dqn_matches_hand_computation():
    target = td_target(REWARDS, NEXT_OBS, TERMINATED, gamma=0.5, target_net=_linear(TARGET))
    # r + gamma * (1 - done) * max_a Q_target(s', a)
    expected = [1.0 + 0.5 * 5.0, 0.0 + 0.5 * 4.0, -1.0 + 0.0]
    np.testing.assert_allclose(target.numpy(), expected)


def test_td_target_double_dqn_matches_hand_computation():
    target = td_target(
        REWARDS, NEXT_OBS, TERMINATED, gamma=0.5, target_net=_linear(TARGET), online_net=_linear(ONLINE)
    )
    # the online net picks a* (0, 1, 0), the target net values it: Q_target(s', a*) = 1, 2, 7
    expected = [1.0 + 0.5 * 1.0, 0.0 + 0.5 * 2.0, -1.0 + 0.0]
    np.testing.assert_allclose(target.numpy(), expected)


def test_td_target_carries_no_gradient():
    online = _linear(ONLINE)
    target = td_target(
        REWARDS, NEXT_OBS, TERMINATED, gamma=0.9, target_net=_linear(TARGET), online_net=online
    )
    assert not target.requires_grad


def test_dueling_head_centres_the_advantages():
    net = QNetwork(4, (8,), 3, dueling=True)
    x = torch.randn(5, 4)
    q = net(x)
    h = net.trunk(x)
    np.testing.assert_allclose(q.mean(1).detach(), net.value(h).squeeze(1).detach(), rtol=1e-5, atol=1e-6)


def test_replay_buffer_keeps_the_newest_transitions():
    buffer = ReplayBuffer(5, 1, torch.device("cpu"))
    for start in (0, 3, 6):  # 9 transitions in chunks of 3 through a ring of 5
        values = np.arange(start, start + 3, dtype=np.float32)
        buffer.extend(values[:, None], values.astype(np.int64), values, values[:, None], np.zeros(3))
    assert len(buffer) == 5
    assert sorted(buffer.rewards.tolist()) == [4.0, 5.0, 6.0, 7.0, 8.0]
    obs, actions, rewards, next_obs, terminated = buffer.sample(64, torch.Generator().manual_seed(0))
    assert obs.shape == (64, 1) and actions.dtype == torch.long
    assert set(rewards.tolist()) <= {4.0, 5.0, 6.0, 7.0, 8.0}
    np.testing.assert_array_equal(obs[:, 0], rewards)  # the fields of one transition stay together


def test_epsilon_falls_linearly_then_stays():
    agent = DQNAgent(exploration_fraction=0.5, exploration_initial_eps=1.0, exploration_final_eps=0.1)
    assert agent._epsilon(0, 1000) == 1.0
    assert agent._epsilon(250, 1000) == pytest.approx(0.55)
    assert agent._epsilon(500, 1000) == pytest.approx(0.1)
    assert agent._epsilon(900, 1000) == pytest.approx(0.1)


# -- behaviour ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_learns_cartpole():
    agent = DQNAgent(
        (64, 64),
        learning_rate=2e-3,
        learning_starts=500,
        train_freq=64,
        gradient_steps=32,
        exploration_fraction=0.2,
        early_stopping=True,
        eval_interval=1000,
        reward_threshold=200,
        random_state=0,
        device="cpu",
    ).fit("CartPole-v1", total_timesteps=15_000)
    mean, _, _ = agent.evaluate("CartPole-v1", n_episodes=10, seed=0)
    assert mean >= 150  # a random policy scores about 22


def test_fit_records_history_and_counts():
    agent = tiny().fit("CartPole-v1", total_timesteps=600)
    history = agent.history_
    assert agent.num_timesteps_ == 600 and agent.n_updates_ == 10 * 5  # phases at 150, 200, ..., 600
    assert len(history["episode_reward"]) == len(history["episode_end"]) > 5
    assert history["loss_step"][0] == 150 and all(np.isfinite(history["loss"]))
    assert sum(history["episode_length"]) <= 600
    assert agent.n_features_in_ == 4 and agent.n_actions_ == 2 and agent.env_id_ == "CartPole-v1"


def test_same_seed_same_agent_and_other_seeds_differ():
    a = tiny(random_state=3).fit("CartPole-v1", 500)
    b = tiny(random_state=3).fit(gym.make("CartPole-v1"), 500)
    c = tiny(random_state=4).fit("CartPole-v1", 500)
    for wa, wb in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(wa, wb)
    assert a.history_ == b.history_
    assert not np.array_equal(weights(a)[0], weights(c)[0])


def test_fit_leaves_global_rngs_untouched():
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    tiny().fit("CartPole-v1", 300)
    assert np.array_equal(np.random.get_state()[1], np_state[1])
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_predict_single_and_batch():
    agent = tiny().fit("CartPole-v1", 300)
    single = agent.predict(np.zeros(4, dtype=np.float32))
    assert isinstance(single, np.integer) and single in (0, 1)
    batch = agent.predict(np.random.default_rng(0).normal(size=(7, 4)))
    assert batch.shape == (7,) and batch.dtype == np.int64
    q = agent.q_values(np.zeros((3, 4)))
    assert q.shape == (3, 2) and isinstance(q, np.ndarray)
    np.testing.assert_array_equal(agent.predict(np.zeros((3, 4))), q.argmax(1))


def test_evaluate_is_seeded_and_greedy():
    agent = tiny().fit("CartPole-v1", 300)
    mean, std, rewards = agent.evaluate("CartPole-v1", n_episodes=4, seed=1)
    again = agent.evaluate(gym.make("CartPole-v1"), n_episodes=4, seed=1)
    assert (
        rewards.shape == (4,)
        and mean == pytest.approx(rewards.mean())
        and std == pytest.approx(rewards.std())
    )
    np.testing.assert_array_equal(rewards, again[2])


def test_dueling_polyak_and_plain_dqn_train():
    for params in (dict(dueling=True), dict(tau=0.05, target_update_interval=1), dict(double_q=False)):
        agent = tiny(**params).fit("CartPole-v1", 300)
        assert np.all(np.isfinite(agent.history_["loss"])), params


def test_early_stopping_stops_when_solved_and_keeps_the_best_weights():
    agent = tiny(early_stopping=True, eval_interval=100, n_eval_episodes=2, reward_threshold=5.0)
    agent.fit("CartPole-v1", 5_000)
    # every CartPole episode lasts at least ~8 steps: a training episode reaches 5 at once, so the
    # weights are evaluated after the first training phase (step 150), reach 5 too, and training stops
    assert agent.num_timesteps_ == 150 and agent.history_["eval_step"] == [150]
    assert agent.best_eval_reward_ == agent.history_["eval_reward"][0] >= 5.0
    assert agent.num_eval_timesteps_ > 0


def test_clone_pickle_and_save_load_round_trip(tmp_path):
    agent = tiny(dueling=True).fit("CartPole-v1", 300)
    assert clone(agent).get_params() == agent.get_params()
    obs = np.random.default_rng(1).normal(size=(6, 4))
    restored = pickle.loads(pickle.dumps(agent))
    np.testing.assert_array_equal(restored.predict(obs), agent.predict(obs))
    deepzoo.save(agent, tmp_path / "agent")
    loaded = deepzoo.load(tmp_path / "agent")
    assert isinstance(loaded, DQNAgent) and loaded.history_ == agent.history_
    np.testing.assert_allclose(loaded.q_values(obs), agent.q_values(obs))
    assert loaded.env_id_ == "CartPole-v1" and loaded.num_timesteps_ == 300


def test_verbose_shows_progress(capsys):
    tiny(verbose=True).fit("CartPole-v1", 300)
    assert "DQNAgent" in capsys.readouterr().out


# -- checkpoint and resume ---------------------------------------------------------------------------
class _Interrupt(gym.Wrapper):
    """Raises KeyboardInterrupt at the n-th step, as a killed process would stop."""

    def __init__(self, env, at: int):
        super().__init__(env)
        self.at, self.steps = at, 0

    def step(self, action):
        self.steps += 1
        if self.steps == self.at:
            raise KeyboardInterrupt
        return self.env.step(action)


def test_resume_after_an_interruption_ends_where_an_uninterrupted_run_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(dqn_module, "CHECKPOINT_EVERY", 200)
    params = dict(early_stopping=True, eval_interval=150, n_eval_episodes=1, reward_threshold=10_000)
    whole = tiny(**params).fit("CartPole-v1", 900)
    path = tmp_path / "agent.ckpt"
    with pytest.raises(KeyboardInterrupt):
        tiny(checkpoint=path, **params).fit(_Interrupt(gym.make("CartPole-v1"), at=700), 900)
    assert path.is_file()
    resumed = tiny(checkpoint=path, resume=True, **params).fit("CartPole-v1", 900)
    # exact on purpose: in one process a resume replays the same operations in the same order
    for a, b in zip(weights(whole), weights(resumed)):
        np.testing.assert_array_equal(a, b)
    assert resumed.history_ == whole.history_
    # the budget counts the evaluation steps too
    assert resumed.num_timesteps_ == whole.num_timesteps_ < 900
    assert resumed.num_timesteps_ + resumed.num_eval_timesteps_ == 900
    # a finished run resumes without another step
    again = tiny(checkpoint=path, resume=True, **params).fit("CartPole-v1", 900)
    assert again.history_ == whole.history_


def test_resume_refuses_another_runs_checkpoint(tmp_path):
    path = tmp_path / "agent.ckpt"
    tiny(checkpoint=path).fit("CartPole-v1", 300)
    with pytest.raises(ValueError, match="other settings"):
        tiny(checkpoint=path, resume=True, learning_rate=0.1).fit("CartPole-v1", 300)
    with pytest.raises(ValueError, match="same total_timesteps"):
        tiny(checkpoint=path, resume=True).fit("CartPole-v1", 400)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        tiny(checkpoint=path, resume=True).fit("CartPole-v1", 300)


# -- bad input -----------------------------------------------------------------------------------------
class _Env(gym.Env):
    """A do-nothing environment with the given spaces."""

    def __init__(self, observation_space, action_space):
        self.observation_space, self.action_space = observation_space, action_space

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 1.0, False, False, {}


def test_continuous_actions_are_refused():
    with pytest.raises(ValueError, match="discrete action space.*continuous.*DiscretizeAction"):
        tiny().fit("Pendulum-v1", 300)


def test_image_observations_are_refused():
    env = _Env(spaces.Box(0, 255, (32, 32, 3), np.uint8), spaces.Discrete(2))
    with pytest.raises(ValueError, match="image observations.*convolutional"):
        tiny().fit(env, 300)


@pytest.mark.parametrize(
    "observation_space, match",
    [
        (spaces.Box(-1, 1, (2, 3)), r"observations of shape \(2, 3\).*FlattenObservation"),
        (spaces.Discrete(16), "flat vector observation.*FlattenObservation"),
        (spaces.Dict({"a": spaces.Box(-1, 1, (2,))}), "flat vector observation"),
    ],
)
def test_non_flat_observations_are_refused(observation_space, match):
    with pytest.raises(ValueError, match=match):
        tiny().fit(_Env(observation_space, spaces.Discrete(2)), 300)


def test_actions_not_starting_at_zero_are_refused():
    env = _Env(spaces.Box(-1, 1, (3,)), spaces.Discrete(3, start=-1))
    with pytest.raises(ValueError, match="numbered from 0"):
        tiny().fit(env, 300)


def test_total_timesteps_within_the_warm_up_is_refused():
    with pytest.raises(
        ValueError, match=r"total_timesteps=100 is not larger than learning_starts=100.*Raise"
    ):
        tiny().fit("CartPole-v1", 100)
    with pytest.raises(TypeError, match="total_timesteps must be an int"):
        tiny().fit("CartPole-v1", 1e4)


def test_unknown_env_id_suggests_the_nearest():
    with pytest.raises(ValueError, match="Unknown environment id 'CartPol-v1'.*Did you mean 'CartPole-v1'"):
        tiny().fit("CartPol-v1", 300)


def test_env_of_the_wrong_type():
    with pytest.raises(TypeError, match="expects a gymnasium environment or its id"):
        tiny().fit(np.zeros((10, 4)), 300)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(learning_rate=-1.0), "'learning_rate' parameter of DQNAgent"),
        (dict(tau=0.0), r"'tau' parameter of DQNAgent must be a float in the range \(0, 1\]"),
        (dict(gamma=1.5), "'gamma' parameter"),
        (dict(exploration_final_eps=2.0), "'exploration_final_eps' parameter"),
        (dict(hidden_layer_sizes=(0,)), "'hidden_layer_sizes' parameter"),
        (dict(batch_size=0), "'batch_size' parameter"),
    ],
)
def test_bad_hyperparameters(params, match):
    with pytest.raises(ValueError, match=match):
        tiny(**params).fit("CartPole-v1", 300)


def test_predict_errors():
    agent = tiny()
    with pytest.raises(NotFittedError):
        agent.predict(np.zeros(4))
    agent.fit("CartPole-v1", 300)
    with pytest.raises(
        ValueError, match=r"shape \(4,\) or a batch of shape \(n_samples, 4\); got shape \(3,\)"
    ):
        agent.predict(np.zeros(3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        agent.predict([0.0, np.nan, 0.0, 0.0])
    with pytest.raises(ValueError, match="2 observation features"):
        agent.evaluate(_Env(spaces.Box(-1, 1, (2,)), spaces.Discrete(2)), 1)
    with pytest.raises(ValueError, match="n_episodes must be a positive int"):
        agent.evaluate("CartPole-v1", 0)


class _Exploding(_Env):
    def step(self, action):
        return self.observation_space.sample(), 1e38, False, False, {}


def test_diverging_loss_says_what_to_lower():
    env = _Exploding(spaces.Box(-1, 1, (2,)), spaces.Discrete(2))
    with pytest.raises(FloatingPointError, match="Lower learning_rate"):
        tiny(clip_grad_norm=None, learning_rate=1.0).fit(env, 2_000)
