"""Every KPI a run writes is in the README's glossary, with a unit."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_kpi_is_in_the_glossary(short_run):
    text = README.read_text()
    rows = dict(re.findall(r"^\| `([a-z0-9_<>]+)` \| ([^|]+) \|", text, flags=re.M))
    patterns = {re.compile("^" + re.sub(r"<[a-z]+>", "[a-z0-9_]+", k) + "$"): unit for k, unit in rows.items()}
    missing = [k for k in short_run.kpis if not any(p.match(k) for p in patterns)]
    assert not missing, f"KPIs missing from the README glossary: {missing}"
    assert all(unit.strip() for unit in rows.values())


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    text = README.read_text()
    assert "./callao run" in text and "./run-tests" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "./run-tests" in ci
