"""Every port, the home port included, is a ``[[ports]]`` entry; the old top-level sections still load."""

import pandas as pd
import pytest

from callao.scenario import Scenario, ScenarioError, load_scenario, validate
from callao.sim.disruptions import closures, naval_movements
from callao.sim.streams import Streams


def test_home_port_is_the_first_port_with_the_top_level_sections():
    sc = load_scenario("chancay")
    assert sc.port_names == ["callao", "chancay"] and sc.home is sc.ports[0]
    assert sc.home.name == sc.home_port == "callao"
    assert sc.home.naval.movements_per_day > 0 and sc.ports[1].naval.movements_per_day == 0
    assert sc.port_settings("chancay").corridor_h == 1.5
    with pytest.raises(KeyError, match=r"port 'lima': expected one of \['callao', 'chancay'\]"):
        sc.port_settings("lima")


def test_home_port_written_as_a_ports_entry_is_the_same_scenario():
    old = load_scenario("callao")
    data = old.model_dump(by_alias=True)
    assert {"channel", "naval", "closures"} <= set(data) and data["ports"] == []  # the file format
    home = {"name": "callao", **{k: data.pop(k) for k in ("channel", "naval", "closures")}}
    new = validate({**data, "ports": [home]})
    assert new == old and new.model_dump(by_alias=True) == old.model_dump(by_alias=True)
    assert validate(old.model_dump(by_alias=True)) == old  # the dump round-trips, as JSON too
    two = load_scenario("chancay")
    assert Scenario.model_validate_json(two.model_dump_json(by_alias=True)) == two


def test_top_level_sections_override_the_home_ports_entry():
    data = load_scenario("callao").model_dump(by_alias=True)
    entry = {"name": "callao", "channel": {**data.pop("channel"), "pilots": 2, "transit_h": 9.0}}
    sc = validate({**data, "ports": [entry], "channel": {"pilots": 5}})
    assert sc.home.channel.pilots == 5 and sc.home.channel.transit_h == 9.0
    # an overlay on a loaded scenario's dump changes the home port (as sweeps and calibration do)
    base = load_scenario("chancay")
    assert load_scenario(base, naval={"movements_per_day": 1.0}).home.naval.movements_per_day == 1.0
    assert load_scenario(base, closures={"stop_cranes": False}).home.closures.stop_cranes is False
    assert load_scenario(base, closures={"stop_cranes": False}).ports[1].closures.stop_cranes is True


def test_port_errors_name_the_field():
    with pytest.raises(ScenarioError, match=r"\['chancay'\] listed more than once"):
        validate({**load_scenario("chancay").model_dump(by_alias=True), "ports": [{"name": "chancay"}] * 2})
    with pytest.raises(ScenarioError, match=r"terminals\[1\] \(apmt\)\.port: 'lima' is not a port"):
        load_scenario("callao", terminals=[{"name": "apmt", "port": "lima"}])
    with pytest.raises(ScenarioError, match=r"ports \(callao\)\.channel\.tugs = 1"):
        load_scenario("callao", channel={"tugs": 1, "tugs_by_loa": [[0.0, 2]]})


def test_adding_a_port_leaves_the_home_ports_disruptions_unchanged():
    alone, both = load_scenario("callao"), load_scenario("chancay", closures={"tsunami_alerts_per_year": 0.5},
                                                          ports=[{"name": "chancay", "naval": {"movements_per_day": 2}}])
    alone = load_scenario(alone, closures={"tsunami_alerts_per_year": 0.5})
    until = 3 * 8760.0
    for draw in (closures, naval_movements):
        a, b = draw(alone, Streams(4), until), draw(both, Streams(4), until)
        assert len(a) > 0 and a.equals(b[b["port"] == "callao"].reset_index(drop=True))
        assert (b["port"] == "chancay").any()


def test_naval_kpis_count_every_port():
    import callao
    from callao.kpis import compute_kpis
    sc = load_scenario("chancay", simulation={"years": 0.05, "containers": False},
                       ports=[{"name": "chancay", "naval": {"movements_per_day": 6.0, "duration_h": 1.0}}])
    r = callao.simulate(sc, seed=2)
    k = compute_kpis(r)
    naval = r.naval[(r.naval["start_h"] >= 0) & (r.naval["start_h"] < r.horizon_h)]
    assert set(naval["port"]) == {"callao", "chancay"}
    assert k["naval_movements"] == len(naval)
    arrived = (r.vessels["t_arrival"] >= 0) & (r.vessels["t_arrival"] < r.horizon_h)
    at_chancay = arrived & (r.vessels["port"] == "chancay")
    assert r.vessels.loc[at_chancay, "naval_delay_h"].sum() > 0
    assert k["naval_delay_h_total"] == pytest.approx(r.vessels.loc[arrived, "naval_delay_h"].sum())
    assert isinstance(pd.Series(k).get("closure_events_chancay"), (int, float))
