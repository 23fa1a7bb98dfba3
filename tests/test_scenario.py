"""Scenario files: the bundled ones load; bad ones fail with one clear message per problem."""

from pathlib import Path

import pytest

from callao.scenario import ScenarioError, bundled_names, load_scenario, merge
from callao.scenario.load import read_toml, validate

GOOD = """
name = "tiny"
[simulation]
containers = false
[[vessel_classes]]
name = "v"
loa_m = 200.0
draft_m = 10.0
teu_capacity = 2000
max_cranes = 2
[[terminals]]
name = "t"
quay_length_m = 400.0
depth_m = 12.0
cranes = 2
moves_per_crane_hour = 25.0
[[tramp]]
name = "s"
terminal = "t"
vessel_class = "v"
calls_per_year = 100.0
moves_per_call = { dist = "erlang", k = 2, mean = 500.0 }
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, text))
    return str(e.value)


def test_bundled_scenarios_load():
    assert {"callao", "queue-mm3"} <= set(bundled_names())
    sc = load_scenario("callao")
    assert {t.name for t in sc.terminals} == {"dpworld", "apmt"}
    assert sc.terminal("dpworld").quay_length_m == 1050.0


def test_good_file_loads(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.tramp[0].moves_per_call.mean_value == 500.0


def test_unknown_key_is_named(tmp_path):
    msg = error_of(tmp_path, GOOD.replace("cranes = 2\n", "cranes = 2\ncolour = 'red'\n"))
    assert "terminals[0] (t).colour" in msg and "unknown key" in msg and "'red'" in msg


def test_negative_capacity_names_field_value_and_expectation(tmp_path):
    msg = error_of(tmp_path, GOOD.replace("cranes = 2\n", "cranes = -3\n"))
    assert "terminals[0] (t).cranes = -3" in msg and "greater than or equal to 1" in msg


def test_impossible_distribution(tmp_path):
    msg = error_of(tmp_path, GOOD.replace('{ dist = "erlang", k = 2, mean = 500.0 }',
                                          '{ dist = "uniform", low = 9.0, high = 1.0 }'))
    assert "tramp[0] (s).moves_per_call" in msg and "low <= high" in msg
    msg = error_of(tmp_path, GOOD.replace('dist = "erlang"', 'dist = "weibull"'))
    assert "unknown distribution 'weibull'" in msg
    msg = error_of(tmp_path, GOOD.replace("mean = 500.0", "mean = -5.0"))
    assert "mean = -5.0" in msg and "greater than 0" in msg


def test_vessel_class_that_fits_no_berth(tmp_path):
    msg = error_of(tmp_path, GOOD.replace("loa_m = 200.0", "loa_m = 450.0"))
    assert "fits no berth" in msg and "loa_m=450.0" in msg and "quay_length_m=400.0" in msg
    msg = error_of(tmp_path, GOOD.replace("draft_m = 10.0", "draft_m = 14.0"))
    assert "fits no berth" in msg and "draft_m=14.0" in msg and "depth_m=12.0" in msg


def test_unknown_reference_and_bad_toml(tmp_path):
    msg = error_of(tmp_path, GOOD.replace('terminal = "t"', 'terminal = "nowhere"'))
    assert "tramp[0] (s).terminal: 'nowhere' is not a terminal" in msg
    msg = error_of(tmp_path, GOOD + "\nthis is not toml\n")
    assert "not valid TOML" in msg


def test_shares_must_sum_to_one():
    data = read_toml(Path(load_scenario.__globals__["BUNDLED_DIR"]) / "callao.toml")
    data["cargo"]["discharge_mix"] = {"import": 0.5, "empty_in": 0.1, "transship": 0.1}
    with pytest.raises(ScenarioError, match="discharge_mix.*sum to 1"):
        validate(data)


def test_extends_overrides_fields_and_named_items(tmp_path):
    base = write(tmp_path, GOOD, "base.toml")
    child = write(tmp_path, f'extends = "{base.name}"\nname = "child"\n'
                  '[[terminals]]\nname = "t"\ncranes = 4\n', "child.toml")
    sc = load_scenario(child)
    assert sc.name == "child" and sc.terminal("t").cranes == 4
    assert sc.terminal("t").quay_length_m == 400.0  # inherited
    loop = write(tmp_path, 'extends = "loop.toml"\nname = "x"\n', "loop.toml")
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(loop)


def test_merge_replaces_distributions_whole():
    a = {"d": {"dist": "exponential", "mean": 1.0}, "x": {"y": 1, "z": 2}}
    b = {"d": {"dist": "constant", "value": 3.0}, "x": {"z": 5}}
    assert merge(a, b) == {"d": {"dist": "constant", "value": 3.0}, "x": {"y": 1, "z": 5}}
