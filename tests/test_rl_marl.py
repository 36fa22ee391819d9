"""Multi-agent PPO (mlzoo_nb.rl.marl) on MPE simple spread, and self-play (mlzoo_nb.rl.selfplay) on Connect Four."""
from __future__ import annotations
import numpy as np
import pytest

pytest.importorskip("mpe2", reason="the rl extra is not installed")
from mlzoo_nb.core.errors import ConfigError, UnknownNameError
from mlzoo_nb.rl.marl import MAPPO, IPPO
from mlzoo_nb.rl.selfplay import SelfPlayPPO


def test_mappo_runs_on_simple_spread():
    marl = MAPPO("mpe2:simple_spread_v3", n_agents=3, shared_policy=True, n_envs=4, n_steps=50, seed=0)
    marl.learn(total_steps=1000, progress=False, dashboard=False)
    assert marl.global_step == 1000 and len(marl.history) == 5
    assert all(np.isfinite([r["policy_loss"], r["value_loss"], r["entropy"]]).all() for r in marl.history)
    assert marl.policy.backbone.config["critic_dim"] == 54 + 3      # the centralised critic reads the global state
    ev = marl.evaluate(episodes=8)
    assert ev["episodes"] == 8 and -100 < ev["mean_return"] < 0


def test_ippo_with_one_policy_per_agent():
    ippo = IPPO("mpe2:simple_spread_v3", n_agents=2, shared_policy=False, n_envs=2, n_steps=30, seed=0)
    ippo.learn(total_steps=120, progress=False, dashboard=False)
    assert len(ippo.policies) == 2 and ippo.policy.backbone.config["critic_dim"] is None
    assert ippo.policy.predict(np.zeros((3, 12), np.float32)).shape == (3,)


def test_marl_bad_input():
    with pytest.raises(UnknownNameError, match="did you mean 'simple_spread_v3'"): MAPPO("mpe2:simple_sprad_v3")
    with pytest.raises(ConfigError, match="n_envs must be an int >= 1"): IPPO("mpe2:simple_spread_v3", n_envs=0)
    with pytest.raises(ConfigError, match="takes Discrete actions"):
        MAPPO("mpe2:simple_spread_v3", env_kwargs={"continuous_actions": True})


def test_self_play_beats_a_random_opponent_after_a_short_run():
    sp = SelfPlayPPO("pettingzoo.classic:connect_four_v3", seed=0)
    # the untrained *sampled* policy is random play; the greedy one already stacks one column (see the notebook)
    before = sp.match("random", games=200, deterministic=False)["win"]
    sp.learn(total_steps=16_384, progress=False, dashboard=False)
    sampled = sp.match("random", games=200, deterministic=False)["win"]
    greedy = sp.win_rate(vs="random", games=200)
    assert 0.4 < before < 0.6 and sampled > before + 0.12 and greedy > 0.8, (before, sampled, greedy)


def test_self_play_needs_a_two_player_game_with_action_masks():
    with pytest.raises(ConfigError, match="action mask"): SelfPlayPPO("pettingzoo.classic:rps_v2")
