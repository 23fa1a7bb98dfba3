"""Reading scenario files: TOML → merged dict (``extends``) → validated :class:`Scenario`.

Errors are :class:`ScenarioError` with one line per problem naming the field, the value found and
what was expected, so the CLI can print them without a traceback.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from callao.scenario.merge import merge
from callao.scenario.model import PORT_SECTIONS, Scenario, home_port_first

BUNDLED_DIR = Path(str(resources.files("callao.scenario") / "bundled"))


class ScenarioError(ValueError):
    """A scenario that cannot be read or is invalid; the message says where and why."""


def bundled_names() -> list[str]:
    """Names of the scenarios shipped with callao (``callao`` is the Port of Callao)."""
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.toml"))


def resolve_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """A bundled scenario name or a file path → an existing TOML path."""
    p = Path(name_or_path)
    bundled = BUNDLED_DIR / f"{p}.toml"
    if p.suffix != ".toml" and len(p.parts) == 1 and bundled.is_file():
        return bundled  # a bare name is a bundled scenario
    candidates = [p] if p.is_absolute() else [*([relative_to / p] if relative_to else []), p]
    for c in candidates:
        if c.is_file():
            return c
    raise ScenarioError(
        f"scenario {str(name_or_path)!r} not found: expected a TOML file or one of the bundled "
        f"scenarios {bundled_names()}"
    )


def read_toml(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario TOML, following ``extends`` (a bundled name or a path relative to the file)."""
    path = path.resolve()
    if path in _seen:
        chain = " -> ".join(str(p.name) for p in (*_seen, path))
        raise ScenarioError(f"extends: circular chain {chain}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path.name}: not valid TOML: {e}") from None
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read: {e.strerror}") from None
    parent = data.pop("extends", None)
    if parent is None:
        return data
    base = read_toml(resolve_path(parent, relative_to=path.parent), (*_seen, path))
    return merge(base, data)


def validate(data: dict[str, Any], source: str = "scenario") -> Scenario:
    """A dict (as read from TOML) → :class:`Scenario`, or a :class:`ScenarioError` listing problems."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        lines = [_describe(err, data) for err in e.errors()]
        raise ScenarioError(f"{source}: invalid scenario\n" + "\n".join(lines)) from None


def load_scenario(name_or_path: str | Path = "callao", **overrides: Any) -> Scenario:
    """Load a bundled scenario by name (default: the Port of Callao) or a TOML file by path.

    Keyword ``overrides`` are merged on top, e.g. ``load_scenario(simulation={"years": 2})``; a
    :class:`Scenario` passed in gets them too (a new, validated scenario); an override naming no
    field of the scenario is a :class:`ScenarioError`, never silently dropped.
    """
    if isinstance(name_or_path, Scenario):
        if not overrides:
            return name_or_path
        data = merge(name_or_path.model_dump(mode="json", by_alias=True), overrides)
        return validate(data, source=f"{name_or_path.name} with overrides")
    path = resolve_path(name_or_path)
    data = merge(read_toml(path), overrides) if overrides else read_toml(path)
    return validate(data, source=path.name)


def _describe(err: dict[str, Any], data: dict[str, Any]) -> str:
    """One readable line for a pydantic error: field path (with item names), value, expectation."""
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p in _DIST_TAGS)]
    if loc[:2] == ["ports", 0] and len(loc) > 2 and loc[2] in PORT_SECTIONS and loc[2] in data:
        loc = loc[2:]  # the home port's section, written at the top level
    else:
        data = home_port_first(data)  # the ports as validated, the home port first
    parts: list[str] = []
    node: Any = data
    for p in loc:
        if isinstance(p, int):
            name = node[p].get("name") if isinstance(node, list) and p < len(node) and isinstance(node[p], dict) else None
            parts[-1] += f"[{p}]" + (f" ({name})" if name else "")
        else:
            parts.append(str(p))
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):
            node = None
    field = ".".join(parts) or "(top level)"
    kind = err["type"]
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return f"  {field}: unknown key (value {err['input']!r}); check the spelling or remove it"
    if kind == "missing":
        return f"  {field}: required but missing"
    if kind == "union_tag_invalid":
        return (f"  {field}: unknown distribution {err['input'].get('dist')!r}; "
                f"expected one of {sorted(_DIST_TAGS)}")
    if kind == "union_tag_not_found":
        return f"  {field}: a distribution needs a 'dist' key; expected one of {sorted(_DIST_TAGS)}"
    msg = msg.removeprefix("Input should be ")
    value = err.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    return f"  {field}{shown}: expected {msg[0].lower() + msg[1:]}" if kind != "value_error" else f"  {field}{shown}: {msg}"


_DIST_TAGS = {"constant", "exponential", "erlang", "gamma", "lognormal", "normal", "uniform", "triangular"}
