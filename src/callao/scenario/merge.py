"""Deep-merging scenario dicts: how an overlay (``extends``), overrides and sweeps change a scenario."""

from __future__ import annotations

import copy
from typing import Any


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` onto ``base``. Tables merge key by key (a distribution, a table with
    ``dist``, is replaced whole); arrays of tables whose items
    all have a ``name`` merge item by item on that name (new names are appended); other arrays and
    values are replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and "dist" not in value:
            out[key] = merge(old, value)
        elif _named_list(old) and _named_list(value):
            by_name = {item["name"]: i for i, item in enumerate(old)}
            merged = list(old)
            for item in value:
                if item["name"] in by_name:
                    merged[by_name[item["name"]]] = merge(merged[by_name[item["name"]]], item)
                else:
                    merged.append(copy.deepcopy(item))
            out[key] = merged
        else:
            out[key] = copy.deepcopy(value)
    return out


def _named_list(x: Any) -> bool:
    return isinstance(x, list) and bool(x) and all(isinstance(i, dict) and "name" in i for i in x)
