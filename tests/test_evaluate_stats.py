"""Statistical behaviour of the evaluation framework, by seeded simulation where the true value is known:
bootstrap intervals cover it at about the nominal rate, and `compare` does not flag equal models more often than alpha.

Each simulation draws a fresh test set from a known population, builds the interval exactly as a report does, and
counts how often it contains the population value. With 300 repetitions the standard error of a 95% coverage is
about 1.3 points, so the accepted band [0.90, 0.99] is wide enough not to flake and narrow enough to catch a
broken interval (a wrong resampling scheme or a percentile mix-up gives 60-80%).
"""
import math
import warnings

import numpy as np
import pytest

from mlzoo_nb.evaluate.metrics import Rows, bootstrap, task_metrics, select_metrics
from mlzoo_nb.evaluate.fairness import bootstrap_groups
from mlzoo_nb.evaluate.report import evaluate, compare

REPS, N_BOOT = 300, 400


def coverage(draw, metric_name, task, truth, reps=REPS, seed=0):
    "Share of `reps` simulated data sets whose 95% bootstrap interval for `metric_name` contains `truth`."
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(reps):
        rows = draw(rng)
        ms = select_metrics(task, rows, [metric_name])
        t = bootstrap(ms, rows, n_boot=N_BOOT, seed=i).iloc[0]
        hits += t.ci_low <= truth <= t.ci_high
    return hits / reps


def test_accuracy_interval_covers_the_true_accuracy():
    p, n = 0.8, 150
    draw = lambda rng: Rows({"labels": ["no", "yes"]}, y=np.ones(n, int), pred=(rng.random(n) < p).astype(int))
    cov = coverage(draw, "accuracy", "classification", p)
    print("coverage", cov); assert 0.90 <= cov <= 0.99, cov


def test_mae_interval_covers_the_true_mae():
    sigma, n = 2.0, 100
    draw = lambda rng: Rows(y=np.zeros(n), pred=rng.normal(0, sigma, n))
    cov = coverage(draw, "mae", "regression", sigma * math.sqrt(2 / math.pi), seed=1)  # E|N(0, s^2)| = s * sqrt(2/pi)
    print("coverage", cov); assert 0.90 <= cov <= 0.99, cov


def test_auroc_interval_covers_the_true_auc():
    d, n = 1.0, 200                                   # binormal scores: AUC = Phi(d / sqrt(2))
    truth = 0.5 * (1 + math.erf(d / 2))

    def draw(rng):
        y = np.r_[np.ones(n // 2, int), np.zeros(n // 2, int)]
        s = 1 / (1 + np.exp(-(rng.normal(size=n) + d * y)))
        return Rows({"labels": ["no", "yes"]}, y=y, pred=(s > 0.5).astype(int), proba=np.c_[1 - s, s])

    cov = coverage(draw, "auroc", "classification", truth, reps=200, seed=2)
    print("coverage", cov); assert 0.88 <= cov <= 0.99, cov


def test_fairness_disparity_intervals_cover_the_true_gaps():
    """Group a: TPR 0.9, FPR 0.15; group b: TPR 0.6, FPR 0.1; labels half positive, so selection 0.525 vs 0.35."""
    rng = np.random.default_rng(3)
    na, nb = 300, 200
    rates = {"a": (0.9, 0.15), "b": (0.6, 0.1)}
    truth_eo = max(abs(0.9 - 0.6), abs(0.15 - 0.1))
    truth_dp = 0.5 * (0.9 + 0.15) - 0.5 * (0.6 + 0.1)   # selection = P(y) TPR + P(not y) FPR
    hits_dp = hits_eo = hits_tpr_b = 0
    for i in range(REPS):
        g = np.r_[["a"] * na, ["b"] * nb]
        y = rng.random(na + nb) < 0.5
        tpr, fpr = np.where(g == "a", rates["a"][0], rates["b"][0]), np.where(g == "a", rates["a"][1], rates["b"][1])
        p = (rng.random(na + nb) < np.where(y, tpr, fpr)).astype(int)
        _, per_group, reps, _ = bootstrap_groups(y.astype(int), p, g, n_boot=N_BOOT, seed=i)
        lo, hi = np.nanquantile(reps["demographic_parity_difference"], [0.025, 0.975]); hits_dp += lo <= truth_dp <= hi
        lo, hi = np.nanquantile(reps["equalized_odds_difference"], [0.025, 0.975]); hits_eo += lo <= truth_eo <= hi
        lo, hi = np.nanquantile(per_group["tpr"][:, 1], [0.025, 0.975]); hits_tpr_b += lo <= 0.6 <= hi
    # gaps well away from 0: near 0 an interval for |difference| (max - min over groups) is biased upwards
    for name, hits in (("demographic parity", hits_dp), ("equalized odds", hits_eo), ("tpr of b", hits_tpr_b)):
        print("coverage", name, hits / REPS); assert 0.88 <= hits / REPS <= 0.99, (name, hits / REPS)


def test_compare_flags_equal_models_at_most_about_alpha():
    """Two models with the same 80% accuracy but independent errors: B is declared better in about alpha/2 of cases."""
    rng = np.random.default_rng(4)
    n, reps, flagged, flagged_any = 200, 150, 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(reps):
            y = rng.integers(0, 2, n)
            pa = np.where(rng.random(n) < 0.8, y, 1 - y); pb = np.where(rng.random(n) < 0.8, y, 1 - y)
            ra = evaluate(None, (np.zeros(n), y), predictions=pa, n_boot=200, seed=i)
            rb = evaluate(None, (np.zeros(n), y), predictions=pb, n_boot=200, seed=i)
            c = compare(ra, rb)
            flagged += c.b_better
            flagged_any += (c.table.better != "").any()
    print("false positives", flagged / reps, flagged_any / reps); assert flagged / reps <= 0.06, flagged / reps             # one-sided: expected <= 0.025
    assert flagged_any / reps <= 0.15, flagged_any / reps      # any of 3 metrics, either direction


def test_compare_finds_a_planted_difference_most_of_the_time():
    """B fixes 40% of A's mistakes (80% -> 88% accuracy) on 300 rows: McNemar has high power for this."""
    rng = np.random.default_rng(5)
    n, reps, found = 300, 40, 0
    for i in range(reps):
        y = rng.integers(0, 2, n)
        wa = rng.random(n) < 0.2
        wb = wa & (rng.random(n) < 0.6)
        ra = evaluate(None, (np.zeros(n), y), predictions=np.where(wa, 1 - y, y), n_boot=200, seed=i)
        rb = evaluate(None, (np.zeros(n), y), predictions=np.where(wb, 1 - y, y), n_boot=200, seed=i)
        found += compare(ra, rb).b_better
    print("power", found / reps); assert found / reps >= 0.8, found / reps
