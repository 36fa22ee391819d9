"""PPO (mlzoo_nb.rl.ppo): the numbers that could be wrong, a short CartPole run that learns, save/load, bad input."""
from __future__ import annotations
import math
import textwrap

import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium", reason="the rl extra is not installed")
from mlzoo_nb.core.errors import ConfigError, UnknownNameError
from mlzoo_nb.rl.ppo import PPO, gae, ppo_loss
from mlzoo_nb.rl.policy import PolicyPipeline, PolicyValueHead, evaluate_policy
from _util import run_python


def test_gae_matches_a_hand_computed_example():
    # gamma 0.9, lambda 0.8, rewards 1, values 0.5, 0.4, 0.3 and 0.2 after the rollout; copy 1 terminates at step 1,
    # copy 2 is truncated there (bootstraps from the next value but does not chain past the episode end)
    r, v = torch.ones(3, 3), torch.tensor([0.5, 0.4, 0.3, 0.2])[:, None].repeat(1, 3)
    term = torch.zeros(3, 3, dtype=torch.bool); term[1, 1] = True
    ended = term.clone(); ended[1, 2] = True
    adv, ret = gae(r, v, term, ended, gamma=0.9, lam=0.8)
    expected = torch.tensor([[1.942592, 1.292, 1.4864], [1.5036, 0.6, 0.87], [0.88, 0.88, 0.88]])
    assert torch.allclose(adv, expected, atol=1e-6)
    assert torch.allclose(ret, expected + v[:-1])


def test_clipped_loss_on_known_numbers():
    ratio = torch.tensor([1.5, 0.5, 0.5, 1.5])
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0])
    new_v, old_v, ret = torch.tensor([1.0, 2.0] * 2), torch.tensor([0.5, 2.0] * 2), torch.tensor([2.0, 1.0] * 2)
    loss, st = ppo_loss(ratio.log(), torch.zeros(4), adv, new_v, old_v, ret, torch.full((4,), 0.5),
                        clip_coef=0.2, vf_coef=0.5, ent_coef=0.01, clip_vloss=False)
    assert st["policy_loss"].item() == pytest.approx(0.15)       # mean(-1.2, 0.8, -0.5, 1.5)
    assert st["value_loss"].item() == pytest.approx(0.5)
    assert st["clip_frac"].item() == 1.0
    assert loss.item() == pytest.approx(0.15 - 0.005 + 0.25)
    _, st = ppo_loss(ratio.log(), torch.zeros(4), adv, new_v, old_v, ret, torch.full((4,), 0.5), clip_vloss=True)
    assert st["value_loss"].item() == pytest.approx(0.6725)      # 0.5 * mean(1.69, 1)


def test_action_distributions_match_torch_and_sample_correctly():
    torch.manual_seed(0)
    head = PolicyValueHead(8, {"type": "discrete", "n": 4})
    logits, actions = torch.randn(50, 4), torch.randint(0, 4, (50,))
    ref = torch.distributions.Categorical(logits=logits)
    assert torch.allclose(head.log_prob(logits, actions), ref.log_prob(actions), atol=1e-6)
    assert torch.allclose(head.entropy(logits), ref.entropy(), atol=1e-6)
    g = torch.Generator().manual_seed(1)
    p = torch.tensor([[1.0, 0.0, -1.0, 0.5]])
    freq = torch.bincount(head.sample(p.expand(40_000, 4), generator=g), minlength=4) / 40_000
    assert torch.allclose(freq, torch.softmax(p, -1)[0], atol=0.01)
    mask = torch.tensor([True, False, True, False])
    assert set(head.sample(p.expand(2000, 4), mask=mask, generator=g).tolist()) == {0, 2}
    gauss = PolicyValueHead(8, {"type": "box", "shape": [2], "low": [-1, -1], "high": [1, 1]}, log_std_init=-1.0)
    mean, a = torch.randn(20, 2), torch.randn(20, 2)
    nref = torch.distributions.Normal(mean, torch.full((2,), math.exp(-1.0)))
    assert torch.allclose(gauss.log_prob(mean, a), nref.log_prob(a).sum(-1), atol=1e-5)
    xs = gauss.sample(torch.zeros(40_000, 2), generator=g)
    assert torch.allclose(xs.std(0), torch.full((2,), math.exp(-1.0)), atol=0.01)
    assert gauss.greedy(torch.tensor([[3.0, -0.5]])).tolist() == [[1.0, -0.5]]


def test_short_cartpole_run_improves_the_return():
    agent = PPO("CartPole-v1", total_steps=20_480, seed=0)
    untrained = agent.evaluate(episodes=10)["mean_return"]
    agent.learn(progress=False, dashboard=False)
    first = [r["return_mean"] for r in agent.history if r["return_mean"] is not None][0]
    assert agent.history[-1]["return_mean"] > max(3 * first, 100)
    trained = agent.evaluate(episodes=10)["mean_return"]
    assert trained > max(3 * untrained, 150), (untrained, trained)


def test_same_seed_same_run_and_save_load_equality(tmp_path):
    runs = [PPO("CartPole-v1", n_envs=2, n_steps=32, seed=s).learn(256, progress=False, dashboard=False) for s in (3, 3, 4)]
    losses = [[r["value_loss"] for r in a.history] for a in runs]
    assert losses[0] == losses[1] and losses[0] != losses[2]
    agent = runs[0]
    agent.save(tmp_path / "ppo")
    back = PPO.load(tmp_path / "ppo")
    for (k, a), (k2, b) in zip(agent.policy.module.state_dict().items(), back.policy.module.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    assert (back.policy.predict(obs) == agent.policy.predict(obs)).all()
    assert np.array_equal(back.policy.predict_proba(obs), agent.policy.predict_proba(obs))
    assert back.config == agent.config and back.global_step == agent.global_step
    assert evaluate_policy(back.policy, episodes=3) == evaluate_policy(agent.policy, episodes=3)


def test_checkpoints_are_saved_while_learning(tmp_path):
    agent = PPO("CartPole-v1", n_envs=2, n_steps=32, seed=0)
    agent.learn(512, progress=False, dashboard=False, checkpoint_dir=tmp_path / "ckpt", checkpoint_every=256)
    names = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert names == ["step_000000256", "step_000000512"]
    assert PPO.load(tmp_path / "ckpt" / "step_000000256").global_step == 256


def test_bad_input_says_what_is_wrong():
    import gymnasium as gym
    with pytest.raises(UnknownNameError, match="did you mean 'CartPole-v1'"): PPO("CartPol-v1")
    with pytest.raises(ConfigError, match="n_envs must be an int >= 1, got 0"): PPO("CartPole-v1", n_envs=0)

    class Switches(gym.Env):
        observation_space, action_space = gym.spaces.Box(-1, 1, (2,)), gym.spaces.MultiBinary(3)
    with pytest.raises(ConfigError, match=r"expected a Discrete or float Box action space, got MultiBinary\(3\)"):
        PPO(Switches)
    with pytest.raises(ConfigError, match="FlattenObservation"): PPO("FrozenLake-v1")


def test_metrics_go_to_mlflow_when_tracking_is_on(tmp_path):
    mlflow = pytest.importorskip("mlflow")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    PPO("CartPole-v1", n_envs=2, n_steps=32, seed=0, track=uri).learn(192, progress=False, dashboard=False)
    client = mlflow.MlflowClient(tracking_uri=uri)
    run = client.search_runs([client.get_experiment_by_name("mlzoo-rl").experiment_id])[0]
    assert run.info.status == "FINISHED" and run.data.params["env"] == "CartPole-v1" and run.data.params["lr"] == "0.001"
    history = client.get_metric_history(run.info.run_id, "value_loss")
    assert [m.step for m in history] == [64, 128, 192]


def test_a_saved_policy_loads_with_pipeline_load_by_registry_name(tmp_path):
    agent = PPO("CartPole-v1", n_envs=2, n_steps=32, seed=0).learn(128, progress=False, dashboard=False)
    agent.save(tmp_path / "ppo")
    np.save(tmp_path / "obs.npy", np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32))
    np.save(tmp_path / "want.npy", agent.policy.predict(np.load(tmp_path / "obs.npy")))
    out = run_python(textwrap.dedent(f"""
        import sys, numpy as np
        from mlzoo_nb.models.pipeline import Pipeline
        pipe = Pipeline.load({str(tmp_path / 'ppo')!r})
        assert "mlzoo_nb.rl.ppo" not in sys.modules and "gymnasium" not in sys.modules  # a policy needs only torch
        assert (pipe.predict(np.load({str(tmp_path / 'obs.npy')!r})) == np.load({str(tmp_path / 'want.npy')!r})).all()
        print(pipe.task)
    """))
    assert out.stdout.strip() == "policy"
