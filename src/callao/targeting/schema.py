"""The callao declaration schema, its validation, and mappings from research formats.

One row is one customs declaration (for the synthetic Callao data, one container). Columns, types
and units are listed in :data:`COLUMNS` and documented in ``docs/targeting.md``. Validation never
drops a row silently: a row that breaks a rule goes to a *quarantine* table with a ``reason``.

Recognised foreign formats (mapped automatically by :func:`to_callao`):

* ``wco`` — the WCO/BACUDA research format (``sgd.id, sgd.date, importer.id, declarant.id,
  country, office.id, tariff.code, quantity, gross.weight, fob.value, cif.value, total.taxes,
  illicit, revenue``), as used by DATE (KDD 2020).
* ``kcs`` — the Korea Customs Service synthetic declarations (``Declaration ID, Date, ..., Fraud,
  Critical Fraud``). Columns without a callao equivalent are kept as ``x_*`` extras.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Kind = Literal["id", "category", "date", "number", "label", "flag"]


@dataclass(frozen=True)
class Column:
    """One schema column: name, kind, unit, whether it is required, and its meaning."""

    name: str
    kind: Kind
    unit: str
    required: bool
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column("declaration_id", "id", "-", True, "unique declaration identifier"),
    Column("date", "date", "ISO date (day resolution used)", True, "date the declaration was lodged"),
    Column("hs_code", "category", "HS digits (2-10)", True, "Harmonized System tariff code, digits only"),
    Column("value_usd", "number", "USD", True, "declared (FOB) value; >= 0"),
    Column("weight_kg", "number", "kg", True, "gross weight; >= 0"),
    Column("quantity", "number", "units/packages", False, "declared quantity; >= 0"),
    Column("exporter_id", "id", "-", False, "exporter / shipper / seller"),
    Column("importer_id", "id", "-", False, "importer / buyer"),
    Column("declarant_id", "id", "-", False, "customs broker or declarant"),
    Column("consignee_id", "id", "-", False, "consignee named on the bill of lading"),
    Column("commodity", "category", "-", False, "commodity name (free text category)"),
    Column("origin_country", "category", "ISO 3166 alpha-2", False, "country of origin of the goods"),
    Column("destination_country", "category", "ISO 3166 alpha-2", False, "country of destination"),
    Column("origin_port", "category", "UN/LOCODE or name", False, "port of loading"),
    Column("destination_port", "category", "UN/LOCODE or name", False, "port of discharge"),
    Column("route", "category", "-", False, "service/route; derived as origin_port>destination_port if absent"),
    Column("office_id", "category", "-", False, "customs office"),
    Column("direction", "category", "import|export", False, "trade direction"),
    Column("reefer", "flag", "0/1", False, "refrigerated container"),
    Column("cif_value_usd", "number", "USD", False, "CIF value; >= 0"),
    Column("taxes_usd", "number", "USD", False, "total duties and taxes declared; >= 0"),
    Column("tax_rate", "number", "percent", False, "applicable duty rate; >= 0"),
    Column("illicit", "label", "0/1 (empty = not inspected)", False, "inspection found fraud/contraband"),
    Column("revenue", "number", "USD", False, "revenue recovered (or value at stake) when illicit; >= 0"),
    Column("contraband_kg", "number", "kg", False, "drugs found (synthetic data only); >= 0"),
)
"""The schema. Extra columns named ``x_<name>`` are kept and used as model features."""

COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
REQUIRED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
LABELS: tuple[str, ...] = ("illicit", "revenue", "contraband_kg")

WCO_MAP: dict[str, str] = {
    "sgd.id": "declaration_id",
    "sgd.date": "date",
    "importer.id": "importer_id",
    "declarant.id": "declarant_id",
    "country": "origin_country",
    "office.id": "office_id",
    "tariff.code": "hs_code",
    "quantity": "quantity",
    "gross.weight": "weight_kg",
    "fob.value": "value_usd",
    "cif.value": "cif_value_usd",
    "total.taxes": "taxes_usd",
    "illicit": "illicit",
    "revenue": "revenue",
}

KCS_MAP: dict[str, str] = {
    "Declaration ID": "declaration_id",
    "Date": "date",
    "Office ID": "office_id",
    "Declarant ID": "declarant_id",
    "Importer ID": "importer_id",
    "Seller ID": "exporter_id",
    "HS6 Code": "hs_code",
    "Country of Origin": "origin_country",
    "Tax Rate": "tax_rate",
    "Net Mass": "weight_kg",
    "Item Price": "value_usd",
    "Fraud": "illicit",
    "Process Type": "x_process_type",
    "Import Type": "x_import_type",
    "Import Use": "x_import_use",
    "Payment Type": "x_payment_type",
    "Mode of Transport": "x_transport_mode",
    "Courier ID": "x_courier_id",
    "Country of Departure": "x_departure_country",
    "Tax Type": "x_tax_type",
    "Country of Origin Indicator": "x_origin_indicator",
    "Critical Fraud": "x_critical_fraud",
}


class SchemaError(ValueError):
    """The table cannot be read as declarations at all (e.g. required columns missing)."""


def detect_format(columns: pd.Index | list[str]) -> Literal["callao", "wco", "kcs"]:
    """Name the format of a table from its column names."""
    cols = set(columns)
    if {"sgd.id", "sgd.date", "tariff.code"} <= cols:
        return "wco"
    if {"Declaration ID", "HS6 Code", "Item Price"} <= cols:
        return "kcs"
    return "callao"


def _as_text(s: pd.Series) -> pd.Series:
    """Render a column as strings, integers without a trailing ``.0``; missing stays missing."""
    if pd.api.types.is_float_dtype(s) and bool(np.all(np.isnan(s) | (s == np.round(s)))):
        s = s.astype("Int64")
    out = s.astype("string").str.strip()
    return out.mask(out == "", pd.NA).astype("str")


def to_callao(df: pd.DataFrame, fmt: str | None = None) -> pd.DataFrame:
    """Rename/derive columns of a WCO/BACUDA or KCS table onto the callao schema (no validation).

    KCS has no revenue column: ``revenue`` is derived as ``Fraud × Item Price × (2 if Critical
    Fraud == 2 else 1)`` — the declared value at stake, doubled for critical fraud — and
    ``taxes_usd`` as ``Item Price × Tax Rate / 100``. KCS prices are in the declared currency, not
    USD; only ratios and rankings are used.
    """
    fmt = fmt or detect_format(df.columns)
    if fmt == "wco":
        out = df.rename(columns=WCO_MAP)
        out["direction"] = "import"
        return out
    if fmt == "kcs":
        out = df.rename(columns=KCS_MAP)
        hs = _as_text(pd.to_numeric(out["hs_code"], errors="coerce"))
        out["hs_code"] = hs.str.zfill(6)
        out["destination_country"] = "KR"
        out["direction"] = "import"
        price = pd.to_numeric(out["value_usd"], errors="coerce")
        rate = pd.to_numeric(out.get("tax_rate"), errors="coerce")
        out["taxes_usd"] = price * rate / 100.0
        if "illicit" in out and "x_critical_fraud" in out:
            crit = pd.to_numeric(out["x_critical_fraud"], errors="coerce")
            ill = pd.to_numeric(out["illicit"], errors="coerce")
            out["revenue"] = ill * price * np.where(crit == 2, 2.0, 1.0)
            out = out.drop(columns=["x_critical_fraud"])  # a label: never a feature
        return out
    return df.copy()


def _parse_dates(s: pd.Series) -> pd.Series:
    """ISO 8601 first; then ``yy-mm-dd`` (the WCO/BACUDA synthetic data), then pandas' guess for
    what is left (only those rows). Unparseable → NaT."""
    text = s.astype("string").str.strip()
    d = pd.to_datetime(text, errors="coerce", format="ISO8601")
    for fmt in ("%y-%m-%d", "mixed"):
        todo = d.isna() & text.notna()
        if not todo.any():
            break
        d = d.astype("datetime64[ns]")
        d[todo] = pd.to_datetime(text[todo], errors="coerce", format=fmt).astype("datetime64[ns]")
    return d


def _reason(mask: pd.Series | np.ndarray, text: str, index: pd.Index) -> pd.Series:
    return pd.Series(np.where(np.asarray(mask, dtype=bool), text, ""), index=index)


def validate(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coerce types and split a callao-schema table into ``(valid, quarantine)``.

    ``quarantine`` holds the offending rows as read, plus a ``reason`` column (several reasons are
    joined with ``"; "``). Raises :class:`SchemaError` when required columns are missing.
    Duplicated ``declaration_id``: the first occurrence is kept, the later ones are quarantined.
    """
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise SchemaError(
            f"missing required column(s): {', '.join(missing)}; required: {', '.join(REQUIRED)} "
            "(or use the WCO/BACUDA or KCS column names)"
        )
    raw = df.reset_index(drop=True)
    out = pd.DataFrame(index=raw.index)
    reasons: list[pd.Series] = []
    idx = raw.index
    for col in COLUMNS:
        if col.name not in raw.columns:
            continue
        s = raw[col.name]
        if col.kind in ("id", "category"):
            out[col.name] = _as_text(s)
        elif col.kind == "date":
            d = s if pd.api.types.is_datetime64_any_dtype(s) else _parse_dates(s)
            out[col.name] = d.astype("datetime64[ns]").dt.normalize()
            reasons.append(_reason(d.isna(), "missing or unparseable date", idx))
        else:
            num = pd.to_numeric(s, errors="coerce").astype("float64")
            bad = num.isna() & s.notna() & (_as_text(s).fillna("").str.len() > 0)
            reasons.append(_reason(bad, f"non-numeric {col.name}", idx))
            reasons.append(_reason(num < 0, f"negative {col.name}", idx))
            if col.kind == "label":
                reasons.append(_reason(num.notna() & ~num.isin([0, 1]), f"{col.name} not 0/1", idx))
            if col.required:
                reasons.append(_reason(s.isna(), f"missing {col.name}", idx))
            if col.kind == "flag":
                num = num.fillna(0.0)
            out[col.name] = num
    out["hs_code"] = out["hs_code"].str.replace(r"[.\s]", "", regex=True)
    reasons.append(_reason(out["declaration_id"].isna(), "missing declaration_id", idx))
    hs_ok = out["hs_code"].fillna("").str.fullmatch(r"\d{2,10}")
    reasons.append(_reason(~hs_ok, "missing or non-digit hs_code", idx))
    dup = out["declaration_id"].notna() & out["declaration_id"].duplicated(keep="first")
    reasons.append(_reason(dup, "duplicate declaration_id", idx))
    for extra in [c for c in raw.columns if c.startswith("x_")]:
        s = raw[extra]
        out[extra] = s if pd.api.types.is_numeric_dtype(s) else _as_text(s)
    if "route" not in out.columns and {"origin_port", "destination_port"} <= set(out.columns):
        out["route"] = (out["origin_port"].fillna("?") + ">" + out["destination_port"].fillna("?")).astype("str")

    reason = np.full(len(idx), "", dtype=object)
    for r in reasons:  # loop over rules (columns), not rows
        r = r.to_numpy(dtype=object)
        reason = np.where(r == "", reason, np.where(reason == "", r, reason + "; " + r))
    reason = pd.Series(reason, index=idx, dtype="str")
    bad_rows = reason.str.len() > 0
    quarantine = raw.loc[bad_rows].copy()
    quarantine["reason"] = reason[bad_rows].astype("str")
    valid = out.loc[~bad_rows].reset_index(drop=True)
    return valid, quarantine.reset_index(drop=True)


def has_labels(df: pd.DataFrame) -> bool:
    """True when the table carries at least one known ``illicit`` label."""
    return "illicit" in df.columns and bool(df["illicit"].notna().any())
