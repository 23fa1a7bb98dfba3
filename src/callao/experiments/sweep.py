"""Parameter sweeps: ``--vary path=v1,v2,...`` → derived scenarios (the cartesian product).

A path is dotted into the resolved scenario: ``customs.scanners``, ``simulation.demand_factor``;
items of arrays of named tables are addressed by name (``terminals.apmt.cranes``), items of other
arrays by index (``gate.hourly_profile.7``). Values are TOML literals (``3``, ``1.2``, ``true``,
``"text"``, ``[1, 2]``, ``{dist = "constant", value = 12}``), bare words are strings. Each point
is built with :func:`callao.scenario.load_scenario` and dict overrides, so arrays of named items
merge by name as in scenario files.
"""

from __future__ import annotations

import copy
import itertools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callao.experiments.replications import Variant
from callao.scenario import Scenario, ScenarioError, load_scenario, merge


class SweepError(ValueError):
    """A ``--vary`` that cannot be applied; the message names the path and value."""


@dataclass(frozen=True)
class Vary:
    """One swept parameter: a dotted path and the values it takes (with their spelling)."""

    path: str
    values: tuple[Any, ...]
    texts: tuple[str, ...]


def parse_value(text: str) -> Any:
    """A TOML literal (number, bool, quoted string, array, inline table) or else the bare string."""
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets, braces and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def parse_vary(text: str) -> Vary:
    """``"customs.scanners=3,6,9"`` → ``Vary("customs.scanners", (3, 6, 9), ("3", "6", "9"))``."""
    path, sep, values = text.partition("=")
    path = path.strip()
    if not sep or not path or not values.strip():
        raise SweepError(f"--vary {text!r}: expected PATH=V1,V2,... e.g. customs.scanners=3,6,9")
    if any(not seg for seg in path.split(".")):
        raise SweepError(f"--vary {text!r}: {path!r} is not a dotted path (empty segment)")
    texts = tuple(_split_top(values))
    if any(not t for t in texts):
        raise SweepError(f"--vary {text!r}: empty value in {values!r}")
    return Vary(path, tuple(parse_value(t) for t in texts), texts)


def _named(x: Any) -> bool:
    return isinstance(x, list) and bool(x) and all(isinstance(i, dict) and "name" in i for i in x)


def override_for(resolved: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """The dict override that sets ``path`` to ``value`` in a scenario whose resolved form
    (``model_dump(by_alias=True)``) is ``resolved``; :class:`SweepError` naming the path if it
    does not exist."""
    segments = path.split(".")

    def walk(node: Any, i: int) -> Any:
        if i == len(segments):
            return copy.deepcopy(value)
        seg, where = segments[i], ".".join(segments[:i]) or "the scenario"
        if node is None:  # an optional section not set: let validation judge the keys
            return {seg: walk(None, i + 1)}
        if isinstance(node, dict):
            if seg not in node:
                raise SweepError(f"--vary {path}: {where} has no field {seg!r}; expected one of {sorted(node)}")
            return {seg: walk(node[seg], i + 1)}
        if _named(node):
            names = [item["name"] for item in node]
            if seg not in names and seg.isdigit() and int(seg) < len(node):
                seg = names[int(seg)]
            if seg not in names:
                raise SweepError(f"--vary {path}: {where} has no item named {seg!r}; expected one of {names}")
            item = node[names.index(seg)]
            if i + 1 == len(segments):
                raise SweepError(f"--vary {path}: {where}.{seg} is a whole item; name one of its fields, "
                                 f"e.g. {where}.{seg}.{next(k for k in item if k != 'name')}")
            return [{"name": seg, **walk(item, i + 1)}]
        if isinstance(node, list):
            if not (seg.isdigit() and int(seg) < len(node)):
                raise SweepError(f"--vary {path}: {where} is an array of {len(node)} item(s); "
                                 f"expected an index 0..{len(node) - 1}, got {seg!r}")
            new = copy.deepcopy(node)
            k = int(seg)
            sub = walk(new[k], i + 1)
            new[k] = merge(new[k], sub) if isinstance(new[k], dict) and isinstance(sub, dict) else sub
            return new
        raise SweepError(f"--vary {path}: {where} is a value ({node!r}), it has no field {seg!r}")

    return walk(resolved, 0)


def point_name(base: str, assignments: list[tuple[str, str]]) -> str:
    """``callao[customs.scanners=6,terminals.apmt.cranes=10]``."""
    return f"{base}[" + ",".join(f"{p}={t}" for p, t in assignments) + "]"


def sweep_variants(scenario: str | Path, varies: list[Vary], years: float | None = None) -> list[Variant]:
    """One :class:`Variant` per point of the cartesian product of ``varies`` (the first value of
    every parameter first). Raises :class:`SweepError` naming the path and value that fail."""
    if not varies:
        raise SweepError("a sweep needs at least one --vary PATH=V1,V2,...")
    paths = [v.path for v in varies]
    dupes = sorted({p for p in paths if paths.count(p) > 1})
    if dupes:
        raise SweepError(f"--vary given twice for {dupes}")
    try:
        base: Scenario = load_scenario(scenario)
    except ScenarioError as e:
        raise SweepError(str(e)) from None
    resolved = base.model_dump(by_alias=True)
    for v in varies:  # check every path once, before building any point
        override_for(resolved, v.path, v.values[0])
    out = []
    for combo in itertools.product(*[list(zip(v.values, v.texts)) for v in varies]):
        name = point_name(base.name, [(v.path, t) for v, (_, t) in zip(varies, combo)])
        overrides: dict[str, Any] = {"name": name}
        for v, (value, _) in zip(varies, combo):
            overrides = merge(overrides, override_for(resolved, v.path, value))
        try:
            sc = load_scenario(scenario, **overrides)
        except ScenarioError as e:
            bad = ", ".join(f"{v.path}={t}" for v, (_, t) in zip(varies, combo))
            detail = str(e).split("\n", 1)[-1]
            raise SweepError(f"--vary {bad}: invalid scenario\n{detail}") from None
        out.append(Variant(sc, years))
    return out
