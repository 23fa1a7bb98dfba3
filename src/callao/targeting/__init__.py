"""Contraband and customs-fraud targeting for the Port of Callao (usable on its own).

Declarations (:mod:`~callao.targeting.schema`, :mod:`~callao.targeting.io`) →
features and risk model (:mod:`~callao.targeting.features`, :mod:`~callao.targeting.model`) →
selection under capacity (:mod:`~callao.targeting.selection`) → reasons
(:mod:`~callao.targeting.explain`) → metrics and the weekly protocol
(:mod:`~callao.targeting.metrics`, :mod:`~callao.targeting.protocol`); the trade's reference tables
(:mod:`~callao.targeting.reference`), the adaptive smugglers (:mod:`~callao.targeting.smugglers`),
the rule-based profile (:mod:`~callao.targeting.profile`, shared with the twin's customs stage),
synthetic Callao data (:mod:`~callao.targeting.synthetic`); the CLI in :mod:`~callao.targeting.cli`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callao.targeting.io import LoadResult, load_frame, read_declarations, write_table
    from callao.targeting.metrics import metrics_at_rates, precision_at
    from callao.targeting.model import RiskModel
    from callao.targeting.schema import COLUMNS, SchemaError, validate
    from callao.targeting.selection import CapacitySelector, select_for_inspection

_HOME = {
    "LoadResult": "io", "load_frame": "io", "read_declarations": "io", "write_table": "io",
    "metrics_at_rates": "metrics", "precision_at": "metrics", "RiskModel": "model",
    "COLUMNS": "schema", "SchemaError": "schema", "validate": "schema",
    "CapacitySelector": "selection", "select_for_inspection": "selection",
}
"""Where each name of the package lives; imported on first use (LightGBM and scikit-learn are
slow to import, and the simulation and most commands need neither)."""

__all__ = [
    "COLUMNS", "CapacitySelector", "LoadResult", "RiskModel", "SchemaError", "load_frame",
    "metrics_at_rates", "precision_at", "read_declarations", "select_for_inspection", "validate",
    "write_table",
]


def __getattr__(name: str) -> object:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
