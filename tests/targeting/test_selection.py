import numpy as np
import pytest

from callao.targeting.selection import CapacitySelector, capacity_count, select_for_inspection


@pytest.mark.parametrize("seed", range(20))
def test_capacity_never_exceeded_and_exploration_share_respected(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    scores = rng.random(n)
    capacity = int(rng.integers(0, 2 * n)) if seed % 2 else float(rng.uniform(0.001, 0.999))
    expl = float(rng.uniform(0, 1))
    mode = "uncertainty" if seed % 3 == 0 else "random"
    mask = select_for_inspection(scores, capacity, rng, expl, mode)
    k = capacity_count(n, capacity)
    assert mask.sum() == k <= n
    order = np.argsort(-scores, kind="stable")
    # exploitation: the selection holds an unbroken prefix of the ranking of at least (1 - share) k
    prefix = int(np.argmin(mask[order])) if not mask[order].all() else n
    assert prefix >= k - expl * k - 1e-9
    # exploration never exceeds its share: picks beyond the top k of the ranking are at most share x k
    assert mask[order[k:]].sum() <= expl * k + 1e-9


def test_rate_capacity_and_same_seed_same_selection():
    scores = np.random.default_rng(0).random(1000)
    a = CapacitySelector(0.05, exploration=0.2).select(scores, np.random.default_rng(42))
    b = CapacitySelector(0.05, exploration=0.2).select(scores, np.random.default_rng(42))
    c = CapacitySelector(0.05, exploration=0.2).select(scores, np.random.default_rng(43))
    assert a.sum() == 50
    assert (a == b).all() and not (a == c).all()


def test_no_exploration_is_pure_top_k():
    scores = np.array([0.1, 0.9, 0.5, 0.7])
    mask = select_for_inspection(scores, 2, np.random.default_rng(0))
    assert list(np.flatnonzero(mask)) == [1, 3]


def test_uncertainty_exploration_prefers_uncertain():
    rng = np.random.default_rng(1)
    scores = np.r_[np.full(10, 0.99), np.full(500, 0.5), np.full(500, 0.0)]
    mask = select_for_inspection(scores, 110, rng, exploration=100 / 110, mode="uncertainty")
    assert mask[10:510].sum() == 100  # all exploration went to p = 0.5, none to p = 0


def test_invalid_arguments():
    with pytest.raises(ValueError):
        select_for_inspection(np.zeros(3), 1, np.random.default_rng(0), exploration=1.5)
    with pytest.raises(ValueError):
        capacity_count(10, -1)


def _sorted_selection(scores, k, explore, mode, uniforms):
    """The selection by full stable sorts (the implementation before the partition-based one)."""
    n = len(scores)
    n_explore = int(np.floor(explore * k + 1e-9))
    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
    mask = np.zeros(n, dtype=bool)
    mask[order[: k - n_explore]] = True
    if n_explore:
        rest = np.flatnonzero(~mask)
        p = np.clip(np.nan_to_num(scores[rest], nan=0.5), 0.0, 1.0)
        w = p * (1.0 - p) + 1e-9 if mode == "uncertainty" else 1.0
        with np.errstate(divide="ignore"):
            key = np.log(uniforms[rest]) / w
        mask[rest[np.argsort(-key, kind="stable")[:n_explore]]] = True
    return mask


@pytest.mark.parametrize("seed", range(30))
def test_partition_selection_equals_stable_sort_with_ties_and_nan(seed):
    """The linear-time selection picks exactly the rows the stable sorts picked (the twin's results
    depend on it): scores with many ties (a small booster gives few distinct values), NaN and
    infinities, exact-zero uniforms."""
    from callao.targeting.selection import first_by_key

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    scores = np.round(rng.random(n), int(rng.integers(1, 4)))  # ties
    if seed % 3 == 0:
        scores[rng.random(n) < 0.1] = np.nan
    if seed % 5 == 0:
        scores[rng.random(n) < 0.05] = np.inf
    uniforms = np.round(rng.random(n), 2)  # ties and exact zeros
    k = int(rng.integers(0, n + 2))
    explore, mode = float(rng.uniform(0, 0.5)), ("uncertainty", "random")[seed % 2]
    got = select_for_inspection(scores, k, rng, explore, mode, uniforms=uniforms)
    assert np.array_equal(got, _sorted_selection(scores, min(k, n), explore, mode, uniforms))
    key = np.round(rng.standard_normal(n), 1)
    for m in (0, 1, n // 3, n - 1, n, n + 1):
        assert np.array_equal(first_by_key(key, m), np.sort(np.argsort(key, kind="stable")[:m]))
