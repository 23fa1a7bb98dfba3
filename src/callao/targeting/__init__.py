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

from callao.targeting.io import LoadResult, load_frame, read_declarations, write_table
from callao.targeting.metrics import metrics_at_rates, precision_at
from callao.targeting.model import RiskModel
from callao.targeting.schema import COLUMNS, SchemaError, validate
from callao.targeting.selection import CapacitySelector, select_for_inspection

__all__ = [
    "COLUMNS", "CapacitySelector", "LoadResult", "RiskModel", "SchemaError", "load_frame",
    "metrics_at_rates", "precision_at", "read_declarations", "select_for_inspection", "validate",
    "write_table",
]
