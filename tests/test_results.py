"""Results.read: the typed run back from its folder, validated; the shared helpers; no import cycles."""

from __future__ import annotations

import ast
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import callao
from callao.results import Results, ResultsError


@pytest.fixture(scope="module")
def run():
    return callao.simulate("callao", seed=3, years=0.03)


@pytest.fixture
def folder(run, tmp_path) -> Path:
    return run.write(tmp_path / "run")


def _assert_same_table(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal columns, dtypes and values; categoricals compared by categories and codes (pandas'
    element-wise comparison of categoricals boxes every value: minutes for a container table)."""
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        x, y = a[col], b[col]
        assert x.dtype == y.dtype, (col, x.dtype, y.dtype)
        if isinstance(x.dtype, pd.CategoricalDtype):
            assert list(x.cat.categories) == list(y.cat.categories), col
            np.testing.assert_array_equal(x.cat.codes.to_numpy(), y.cat.codes.to_numpy(), err_msg=col)
        else:
            pd.testing.assert_series_equal(x, y, check_dtype=True)


def _same(a: float, b: float) -> bool:
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b


def test_round_trip_gives_equal_tables_and_kpis(run, folder):
    back = Results.read(folder)
    assert isinstance(back, Results)
    assert back.scenario == run.scenario and back.seed == run.seed
    for name in ("vessels", "containers", "closures", "naval"):
        _assert_same_table(getattr(back, name), getattr(run, name))
    assert back.kpis.keys() == run.kpis.keys()
    assert all(_same(back.kpis[k], run.kpis[k]) for k in run.kpis), \
        {k: (back.kpis[k], run.kpis[k]) for k in run.kpis if not _same(back.kpis[k], run.kpis[k])}
    pd.testing.assert_frame_equal(back.berth_occupancy, run.berth_occupancy)
    assert json.loads((folder / "kpis.json").read_text()).keys() == run.kpis.keys()


def test_vessels_only_run_round_trips(tmp_path):
    sc = callao.load_scenario("callao", simulation={"containers": False, "years": 0.01})
    r = callao.simulate(sc, seed=1)
    back = Results.read(r.write(tmp_path / "v"))
    assert back.containers is None
    assert back.kpis["vessel_calls_total"] == r.kpis["vessel_calls_total"]


@pytest.mark.parametrize("name", ["scenario.json", "vessels.parquet", "containers.parquet", "closures.parquet",
                                  "naval.parquet"])
def test_missing_file_is_named(folder, name):
    (folder / name).unlink()
    with pytest.raises(ResultsError, match=rf"{name}: missing; expected"):
        Results.read(folder)


@pytest.mark.parametrize("name", ["vessels.parquet", "closures.parquet", "naval.parquet", "containers.parquet"])
def test_corrupt_parquet_is_named(folder, name):
    (folder / name).write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ResultsError, match=rf"{name}: not a readable Parquet file"):
        Results.read(folder)


def test_corrupt_or_incomplete_scenario_json(folder):
    (folder / "scenario.json").write_text("{not json")
    with pytest.raises(ResultsError, match="scenario.json: cannot be read"):
        Results.read(folder)
    (folder / "scenario.json").write_text(json.dumps({"seed": 1}))
    with pytest.raises(ResultsError, match="expected an object with 'seed' and 'scenario'"):
        Results.read(folder)
    (folder / "scenario.json").write_text(json.dumps({"seed": 1, "scenario": {"name": "x", "bogus": 1}}))
    with pytest.raises(ResultsError, match="scenario.json: scenario.*expected a valid scenario"):
        Results.read(folder)


def test_wrong_columns_are_named(run, folder):
    from callao.tables import write_parquet

    write_parquet(run.closures.drop(columns=["end_h"]), folder / "closures.parquet")
    with pytest.raises(ResultsError, match="closures.parquet: column 'end_h' missing"):
        Results.read(folder)
    write_parquet(run.naval.assign(start_h="soon"), folder / "naval.parquet")
    write_parquet(run.closures, folder / "closures.parquet")
    with pytest.raises(ResultsError, match="naval.parquet: column 'start_h' has type .*; expected number"):
        Results.read(folder)


def test_container_rows_must_point_at_vessels(run, folder):
    from callao.tables import write_parquet

    bad = run.containers.copy()
    bad.loc[0, "vessel_in"] = len(run.vessels) + 5
    write_parquet(bad, folder / "containers.parquet")
    with pytest.raises(ResultsError, match="vessel_in ranges .*expected -1 \\(none\\) or a row of vessels"):
        Results.read(folder)


@pytest.mark.parametrize("name", ["scenario.json", "closures.parquet", "naval.parquet"])
def test_symlink_outside_the_folder_is_refused(folder, tmp_path, name):
    outside = tmp_path / "elsewhere" / name
    outside.parent.mkdir()
    shutil.copy(folder / name, outside)  # a valid file: refused for where it is, not what it holds
    (folder / name).unlink()
    (folder / name).symlink_to(outside)
    with pytest.raises(ResultsError, match="outside the results folder"):
        Results.read(folder)


def test_symlink_inside_the_folder_is_read(folder):
    (folder / "naval.parquet").rename(folder / "naval-copy.parquet")
    (folder / "naval.parquet").symlink_to(folder / "naval-copy.parquet")
    assert len(Results.read(folder).naval) > 0


def test_not_a_folder(tmp_path):
    with pytest.raises(ResultsError, match="not a folder"):
        Results.read(tmp_path / "nope")


# --- the package's import graph ---------------------------------------------------------------

def _imports(path: Path, module: str) -> set[str]:
    """callao modules imported anywhere in a module (function bodies included), except in
    ``if TYPE_CHECKING:`` blocks, which are not executed."""
    tree = ast.parse(path.read_text())
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
            and "TYPE_CHECKING" in ast.unparse(node.test) for b in node.body for n in ast.walk(b)}
    out = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in out if m.startswith("callao")}


def _graph() -> dict[str, set[str]]:
    root = Path(callao.__file__).parent
    modules = {}
    for f in root.rglob("*.py"):
        rel = f.relative_to(root.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        modules[name] = f
    graph = {}
    for name, f in modules.items():
        deps = set()
        for m in _imports(f, name):
            while m and m not in modules:  # from callao.x import y: y is a name in callao.x
                m = m.rpartition(".")[0]
            # importing a package's submodule runs the package __init__ too: not a dependency to count
            if m and m != name:
                deps.add(m)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_named_cycles_are_gone():
    g = _graph()
    assert "callao.results" not in g["callao.kpis"]
    assert "callao.experiments.replications" not in g["callao.experiments.executors"]
    assert {"callao.tables"} >= {m for m in g["callao.kpis"] if m.startswith("callao.results") or m == "callao.tables"}


def test_no_import_cycles_between_modules():
    """No cycle among modules (a package's __init__ re-exporting its own submodules is not one)."""
    g = _graph()
    packages = {n for n in g if (Path(callao.__file__).parent.parent / n.replace(".", "/") / "__init__.py").exists()}
    pruned = {n: {d for d in deps if d not in packages} for n, deps in g.items() if n not in packages}
    assert _cycles(pruned) == []


def test_the_cycle_detector_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_headline_labels_come_from_the_one_kpi_table():
    from callao.kpis import HEADLINE, kpi_info

    for name, label, _ in HEADLINE:
        assert kpi_info(name).label == label, name
    assert kpi_info("berth_occupancy_apmt", {"apmt": "APM Terminals"}).format(0.561) == "56%"
    assert kpi_info("anchorage_wait_mean_h").format(20.64) == "20.6 h"
    assert kpi_info("yard_dwell_empty_in_mean_d").label == "Empty-in dwell (mean)"
    assert kpi_info("something_new_h").unit == "h"
    assert kpi_info("detection_rate").format(float("nan")) == "–"
