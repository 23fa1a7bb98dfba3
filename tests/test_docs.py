"""Every KPI a run writes is in the README's glossary, with a unit."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def undocumented(kpis: dict) -> list[str]:
    """KPI names not covered by a row of the README's glossary (each row must give a unit)."""
    text = README.read_text()
    rows = {}
    for names, unit in re.findall(r"^\| (`[a-z0-9_<>]+`(?:, `[a-z0-9_<>]+`)*) \| ([^|]+) \|", text, flags=re.M):
        rows.update(dict.fromkeys(re.findall(r"`([a-z0-9_<>]+)`", names), unit))
    patterns = {re.compile("^" + re.sub(r"<[a-z]+>", "[a-z0-9_]+", k) + "$"): unit for k, unit in rows.items()}
    assert all(unit.strip() for unit in rows.values())
    return [k for k in kpis if not any(p.match(k) for p in patterns)]


def test_every_kpi_is_in_the_glossary(short_run):
    assert not undocumented(short_run.kpis)


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    text = README.read_text()
    assert "./callao run" in text and "./run-tests" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "./run-tests" in ci
