"""The scanner lever in the twin's export targeting: common random numbers across capacities.

With the same seed, a change of scanner capacity must not reshuffle which boxes carry cocaine or
which inspections would find it; with a fixed ranking (the profile rule) and smugglers who do not
adapt, a larger capacity inspects a superset of the boxes, so it never finds fewer loads.
"""

import numpy as np
import pytest

from callao.scenario.model import Targeting
from callao.sim.inspection import PORT_TABLE, export_capacity_per_day, target_exports
from callao.sim.streams import Streams
from callao.targeting.reference import EXPORT_COMMODITIES


def boxes(days: int, per_day: int, seed: int = 0) -> dict:
    """Export boxes requesting inspection over ``days`` days (commodities and ports the twin knows)."""
    r = np.random.default_rng(seed)
    n = days * per_day
    goods = np.array([c.name for c in EXPORT_COMMODITIES], dtype=object)
    ports = np.array(sorted(PORT_TABLE), dtype=object)
    return {"commodity": r.choice(goods, n), "destination": r.choice(ports, n), "reefer": r.random(n) < 0.4,
            "t_request_h": np.sort(r.random(n) * days * 24.0), "container_id": np.arange(n)}


def run(tg: Targeting, b: dict, scanners: int, seed: int):
    s = Streams(seed)
    capacity = [export_capacity_per_day(tg, scanners, 5.0, 180.0)]
    return target_exports(tg, b["commodity"], b["destination"], b["reefer"], b["t_request_h"], b["container_id"],
                          s("declarations"), s("contraband"), s("targeting"), capacity_per_day=capacity)


@pytest.mark.parametrize("seed", [1, 2])
def test_more_scanners_inspect_a_superset_and_never_find_fewer_loads(seed):
    """Fixed profile ranking, non-adaptive smugglers: the cocaine is the same at every capacity, the
    inspected boxes nest, and so do the finds (the per-box detection draws do not move)."""
    tg = Targeting(policy="profile", adaptiveness=0.0, contraband_share=0.004)
    b = boxes(90, 1500)
    runs = [run(tg, b, k, seed) for k in (1, 2, 3, 6, 9)]
    for small, large in zip(runs, runs[1:]):
        np.testing.assert_array_equal(small.contraband_kg, large.contraband_kg)
        assert ((small.channel > 1) <= (large.channel > 1)).all()  # inspected set grows
        assert (small.found <= large.found).all()                  # found set grows
        assert (large.channel > 1).sum() > (small.channel > 1).sum()
    hits = [int(r.found.sum()) for r in runs]
    assert hits == sorted(hits) and hits[-1] > hits[1]


def test_exploration_picks_nest_across_capacities():
    """Learned policy with exploration, non-adaptive smugglers: the cocaine and the per-box
    detection draws are common to both capacities; with the model's ranking the same on a day
    (the warm-up days use the profile) the larger capacity's picks contain the smaller's."""
    tg = Targeting(policy="model_explore", adaptiveness=0.0, contraband_share=0.004, warmup_days=20,
                   retrain_days=10, history_days=30)
    b = boxes(45, 1200)
    a, c = run(tg, b, 3, 7), run(tg, b, 9, 7)
    np.testing.assert_array_equal(a.contraband_kg, c.contraband_kg)
    warm = b["t_request_h"] < 20 * 24.0
    assert ((a.channel[warm] > 1) <= (c.channel[warm] > 1)).all()
    # a loaded box examined under both capacities is found under both or neither
    both = (a.channel == 3) & (c.channel == 3)
    np.testing.assert_array_equal(a.found[both], c.found[both])


def test_exploration_with_uniforms_nests_in_the_capacity():
    """Exploration by exponential keys: same scores and uniforms, more capacity -> a superset."""
    from callao.targeting.selection import select_for_inspection

    r = np.random.default_rng(3)
    p = r.beta(0.5, 30.0, 2000)
    u = r.random(2000)
    masks = [select_for_inspection(p, k, r, 0.3, "uncertainty", uniforms=u) for k in range(0, 400, 7)]
    for small, large in zip(masks, masks[1:]):
        assert (small <= large).all() and large.sum() >= small.sum()
    # the explored picks follow the weights: boxes the model is unsure about are explored more often
    top = np.argsort(-p)[:60]
    rest = np.setdiff1d(np.arange(2000), top)
    counts = np.zeros(2000)
    for i in range(200):
        counts += select_for_inspection(p, 100, r, 0.4, "uncertainty", uniforms=np.random.default_rng(i).random(2000))
    w = p * (1 - p)
    hi, lo = rest[w[rest] > np.quantile(w[rest], 0.9)], rest[w[rest] < np.quantile(w[rest], 0.1)]
    assert counts[hi].mean() > 5 * counts[lo].mean()


@pytest.mark.slow
def test_detection_rises_with_scanners_over_seeds():
    """The bundled policy (learned model with exploration, adaptive smugglers): over a few seeds,
    9 scanners find more loads than 3 on the same boxes and seeds."""
    tg = Targeting(policy="model_explore", contraband_share=0.004, retrain_days=20, history_days=60)
    b = boxes(120, 1200)
    found = {k: [int(run(tg, b, k, seed).found.sum()) for seed in (1, 2, 3)] for k in (3, 9)}
    assert sum(found[9]) > 1.3 * sum(found[3]), found
