"""The gate as lanes: the multi-server queue against queueing theory, dual cycles, appointments,
and the gate lanes of the bundled year as a lever that binds at busy hours."""

import heapq

import numpy as np
import pytest

import callao
from callao.scenario import load_scenario
from callao.sim.gate import _merged_order, pair_dual_cycles
from callao.sim.queues import SEGMENT, multi_server_fifo_wait
from callao.sim.streams import choice_index
from callao.tables import stable_argsort
from callao.validation import erlang_c

SERVICE_H = 5.0 / 60.0  # five-minute gate transactions
BUSY_HOUR_TRUCKS = 48.0  # trucks an hour at the busy hour: 4 Erlangs of work


def replicate_wait(lanes: int, cv: float, reps: int = 16, trucks: int = 80_000) -> tuple[float, float]:
    """Mean wait (hours) and its 95% half-width over independent replications of a stationary
    busy hour: Poisson arrivals, gamma service with the given cv (1: exponential)."""
    means = []
    for r in range(reps):
        rng = np.random.default_rng(100 + r)
        a = np.cumsum(rng.exponential(1.0 / BUSY_HOUR_TRUCKS, trucks))
        k = 1.0 / cv**2
        s = rng.gamma(k, SERVICE_H / k, trucks)
        w = multi_server_fifo_wait(a, s, lanes)
        means.append(w[trucks // 10:].mean())  # drop the empty-start transient
    m = np.asarray(means)
    return float(m.mean()), float(1.96 * m.std(ddof=1) / np.sqrt(reps))


def erlang_c_wait(lanes: int) -> float:
    rho = BUSY_HOUR_TRUCKS * SERVICE_H / lanes
    return erlang_c(lanes, rho) * SERVICE_H / (lanes * (1.0 - rho))


@pytest.mark.parametrize("lanes", [10, 5])
def test_halving_the_lanes_gives_the_erlang_c_wait(lanes):
    """M/M/c: 10 lanes (rho 0.4) and half of them (rho 0.8): the simulated mean wait lies in the
    replications' 95% interval around Erlang C."""
    mean, half = replicate_wait(lanes, cv=1.0)
    theory = erlang_c_wait(lanes)
    assert abs(mean - theory) <= max(half, 0.02 * theory), (mean, half, theory)
    assert half < 0.15 * theory + 1e-4  # the interval is tight enough to mean something


def test_halving_the_lanes_with_gamma_service_matches_allen_cunneen():
    """M/G/c (gate transactions with cv 0.5): Allen-Cunneen, Wq ~ Wq(M/M/c) x (1 + cs^2) / 2,
    within 10% at rho 0.8; and halving the lanes multiplies the wait as theory predicts."""
    cv = 0.5
    full, _ = replicate_wait(10, cv)
    half_lanes, _ = replicate_wait(5, cv)
    for lanes, sim in ((5, half_lanes),):
        assert sim == pytest.approx(erlang_c_wait(lanes) * (1 + cv**2) / 2, rel=0.10)
    assert half_lanes / full == pytest.approx(erlang_c_wait(5) / erlang_c_wait(10), rel=0.35)


def test_an_overloaded_busy_spell_builds_the_queue_fluid_theory_predicts():
    """Above capacity the queue grows at (arrival rate - lanes x service rate): after T hours at
    rho > 1 the last truck waits about (rho - 1) x T hours (the fluid limit)."""
    rng = np.random.default_rng(7)
    lanes, hours, rho = 5, 12.0, 1.5
    rate = rho * lanes / SERVICE_H
    a = np.sort(rng.uniform(0.0, hours, int(rate * hours)))
    w = multi_server_fifo_wait(a, rng.exponential(SERVICE_H, a.size), lanes)
    assert w[-50:].mean() == pytest.approx((rho - 1.0) * hours, rel=0.1)


def test_multi_server_queue_is_exact_on_a_small_case():
    a = np.array([0.0, 0.1, 0.2, 1.0, 5.0])
    s = np.array([2.0, 3.0, 1.0, 1.0, 1.0])
    # two servers: 0 -> [0,2], 1 -> [0.1,3.1], 2 waits for 0 -> [2,3], 3 waits for 2 -> [3,4], 4 none
    expected = np.array([0.0, 0.0, 1.8, 2.0, 0.0])
    np.testing.assert_allclose(multi_server_fifo_wait(a, s, 2), expected)
    perm = np.array([4, 2, 0, 3, 1])  # results come back in the input order
    np.testing.assert_allclose(multi_server_fifo_wait(a[perm], s[perm], 2), expected[perm])
    np.testing.assert_allclose(multi_server_fifo_wait(a, s, 5), 0.0)


def heap_queue_starts(a: np.ndarray, s: np.ndarray, lanes: int) -> np.ndarray:
    """The plain multi-server FIFO queue, customer by customer: the reference for the fast one."""
    free = [-np.inf] * lanes
    start = []
    for ai, si in zip(a.tolist(), s.tolist()):
        st = free[0] if free[0] > ai else ai
        start.append(st)
        heapq.heapreplace(free, st + si)
    return np.asarray(start)


@pytest.mark.parametrize("lanes, rho, daily", [(14, 0.4, True), (10, 0.95, True), (3, 1.2, False),
                                               (1, 0.7, False)])
def test_segmented_queue_equals_the_heap_loop_bit_for_bit(lanes, rho, daily):
    """Long runs take the segmented path (segments side by side, reruns where the queue was busy at
    a cut); waits must equal the heap loop's to the last bit, also with ties and unsorted input."""
    rng = np.random.default_rng(lanes)
    n = 12 * SEGMENT
    gaps = rng.exponential(1.0, n)
    if daily:  # busy days and quiet nights, as at a gate
        gaps *= np.where((np.arange(n) // 400) % 3 == 0, 4.0, 0.6)
    a = np.round(np.cumsum(gaps), 1)  # rounded: many equal arrival times
    s = np.round(rng.gamma(2.0, lanes * rho / 2.0, n), 2)
    perm = rng.permutation(n)
    w = multi_server_fifo_wait(a[perm], s[perm], lanes)
    order = np.argsort(a[perm], kind="stable")  # arrival order, ties in input order
    a_sorted, s_sorted = a[perm][order], s[perm][order]
    np.testing.assert_array_equal(w[order], heap_queue_starts(a_sorted, s_sorted, lanes) - a_sorted)
    assert (w > 0).any()


def test_dual_cycles_take_only_released_nearby_boxes_once():
    rng = np.random.default_rng(0)
    t_drop = rng.uniform(0, 100, 500)
    t_pick = rng.uniform(0, 100, 400)
    ready = t_pick - rng.uniform(0, 10, 400)
    partner = pair_dual_cycles(t_drop, t_pick, ready, share=1.0, window_h=2.0, rng=rng)
    paired = partner >= 0
    assert 0.3 * 400 < paired.sum() <= 400
    assert np.unique(partner[paired]).size == paired.sum()  # each pick-up once
    assert (np.abs(t_pick[partner[paired]] - t_drop[paired]) <= 2.0).all()
    assert (ready[partner[paired]] <= t_drop[paired]).all()  # released by the visit
    assert (pair_dual_cycles(t_drop, t_pick, ready, 0.0, 2.0, rng) == -1).all()


DAYS = 45


def gate_kpis(**gate) -> dict:
    over = {"simulation": {"years": DAYS / 365}, "gate": gate}
    return callao.simulate(load_scenario("callao", **over), seed=1).kpis


@pytest.fixture(scope="module")
def base():
    return gate_kpis()


@pytest.mark.slow
def test_dual_cycles_bring_truck_visits_down_to_the_published_level(base):
    single = gate_kpis(dual_cycle_share=0.0)
    assert single["gate_truck_visits_per_day_mean"] == pytest.approx(single["gate_trucks_per_day_mean"], rel=1e-9)
    assert single["gate_dual_cycle_share"] == 0.0
    assert base["gate_truck_visits_per_day_mean"] < 0.8 * single["gate_truck_visits_per_day_mean"]
    assert base["gate_trucks_per_day_mean"] == pytest.approx(single["gate_trucks_per_day_mean"], rel=0.01)


@pytest.mark.slow
def test_halving_the_lanes_binds_at_busy_hours(base):
    sc = load_scenario("callao", simulation={"years": DAYS / 365})
    halved = [{"name": t.name, "gate_lanes": t.gate_lanes // 2} for t in sc.terminals]
    k = callao.simulate(load_scenario("callao", simulation={"years": DAYS / 365}, terminals=halved), seed=1).kpis
    assert k["gate_wait_mean_h"] > 5 * base["gate_wait_mean_h"]
    assert k["gate_wait_max_h"] > base["gate_wait_max_h"] + 2.0
    assert k["gate_road_queue_hours"] > base["gate_road_queue_hours"]


@pytest.mark.slow
def test_appointments_flatten_the_peak_and_shorten_waits(base):
    booked = gate_kpis(appointment_share=1.0)
    assert booked["gate_trucks_peak_hour"] < base["gate_trucks_peak_hour"]
    assert booked["gate_wait_mean_h"] < base["gate_wait_mean_h"]


@pytest.mark.parametrize("case", ["distinct", "ties", "nan", "inf", "tiny"])
def test_stable_argsort_is_numpys_stable_argsort(case):
    """The fast path (unstable sort, checked for ties) must give exactly the stable order."""
    rng = np.random.default_rng(3)
    x = {"distinct": rng.random(5000), "ties": np.round(rng.random(5000), 2),
         "nan": np.where(rng.random(5000) < 0.1, np.nan, rng.random(5000)),
         "inf": np.where(rng.random(5000) < 0.1, -np.inf, rng.random(5000)), "tiny": np.array([2.0])}[case]
    np.testing.assert_array_equal(stable_argsort(x), np.argsort(x, kind="stable"))
    assert stable_argsort(np.empty(0)).size == 0


@pytest.mark.parametrize("rounded", [False, True])
def test_merged_order_is_the_stable_sort_of_the_visits(rounded):
    """The gate merges the drop-offs' and the kept pick-ups' orders instead of sorting all visits:
    the same order as a stable sort of the concatenation, ties between them included."""
    rng = np.random.default_rng(11)
    td, tp = rng.uniform(0, 100, 3000), rng.uniform(0, 100, 2000)
    if rounded:  # many equal times, within and across the two kinds
        td, tp = np.round(td), np.round(tp)
    keep = rng.random(tp.size) < 0.6
    order = _merged_order(td, stable_argsort(td), tp, stable_argsort(tp), keep)
    np.testing.assert_array_equal(order, np.argsort(np.concatenate([td, tp[keep]]), kind="stable"))


def test_pairing_with_given_orders_equals_pairing_without():
    rng = np.random.default_rng(5)
    td, tp = np.round(rng.uniform(0, 200, 4000), 1), np.round(rng.uniform(0, 200, 3000), 1)
    ready = tp - rng.uniform(0, 5, tp.size)
    plain = pair_dual_cycles(td, tp, ready, 0.6, 3.0, np.random.default_rng(1))
    given = pair_dual_cycles(td, tp, ready, 0.6, 3.0, np.random.default_rng(1),
                             drop_order=np.argsort(td, kind="stable"), pick_order=np.argsort(tp, kind="stable"))
    np.testing.assert_array_equal(plain, given)
    assert (plain >= 0).sum() > 1000 and np.unique(plain[plain >= 0]).size == (plain >= 0).sum()


@pytest.mark.parametrize("case", ["hours", "zeros", "one", "many", "empty"])
def test_choice_index_draws_what_numpys_choice_draws(case):
    """The bucket table gives rng.choice(len(p), size, p=p)'s draws to the bit and leaves the stream
    where numpy's leaves it (a draw on a bucket edge or a cumulative value is searched, not guessed)."""
    rng = np.random.default_rng(8)
    p = {"hours": rng.random(24) ** 2, "zeros": np.array([0.0, 0.3, 0.0, 0.7, 0.0]), "one": np.array([1.0]),
         "many": rng.random(700), "empty": np.array([0.2, 0.8])}[case]
    p = p / p.sum()
    size = 0 if case == "empty" else 200_000
    ours, numpys = np.random.default_rng(21), np.random.default_rng(21)
    got = choice_index(ours, p, size)
    expected = numpys.choice(p.size, size=size, p=p)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert ours.random() == numpys.random()
    if case == "zeros":
        assert set(np.unique(got)) == {1, 3}
    with pytest.raises(ValueError):
        choice_index(np.random.default_rng(0), np.array([0.5, -0.1, 0.6]), 10)


def test_segments_are_capped_and_cut_at_the_longest_gap():
    """The lanes' loop runs as many steps as the longest segment: every segment holds at most
    SEGMENT customers (at least half, but the last), each cut at the longest gap in its window."""
    from callao.sim.queues import _cuts

    rng = np.random.default_rng(4)
    a = np.sort(rng.uniform(0, 5000, 20 * SEGMENT + 123))
    bounds = _cuts(a)
    size = np.diff(bounds)
    assert bounds[0] == 0 and bounds[-1] == a.size
    assert size.max() <= SEGMENT and size[:-1].min() >= SEGMENT // 2
    gaps = np.diff(a)
    for start, cut in zip(bounds[:-2], bounds[1:-1]):
        assert gaps[cut - 1] == gaps[start + SEGMENT // 2 - 1:start + SEGMENT].max()
