"""load_scenario applies every override (or refuses it); Scenario.terminal names unknown terminals."""

import pytest

from callao.scenario import ScenarioError, load_scenario


def test_overrides_apply_to_a_name_and_to_a_scenario():
    base = load_scenario("callao")
    assert load_scenario("callao", simulation={"years": 0.5}).simulation.years == 0.5
    again = load_scenario(base, simulation={"years": 0.25})
    assert again.simulation.years == 0.25 and base.simulation.years != 0.25
    assert load_scenario(base) is base


@pytest.mark.parametrize("source", ["name", "scenario"])
def test_unknown_or_invalid_override_is_an_error(source):
    sc = "callao" if source == "name" else load_scenario("callao")
    with pytest.raises(ScenarioError, match="simulaton: unknown key"):
        load_scenario(sc, simulaton={"years": 2})
    with pytest.raises(ScenarioError, match="simulation.years"):
        load_scenario(sc, simulation={"years": -1})


def test_unknown_terminal_is_a_clear_error():
    sc = load_scenario("callao")
    first = sc.terminals[0]
    assert sc.terminal(first.name) is first
    with pytest.raises(KeyError, match=r"terminal 'nowhere': expected one of \['"):
        sc.terminal("nowhere")
