"""The supervisor's dashboard: the unit's figures as one server-rendered HTML page.

Plain HTML and CSS (no script, no external resource; the page is sent with a Content-Security-Policy
that forbids both): hit rate against the random baseline per terminal and per ISO week (with
bars), lists issued, inspections, kg seized, overrides and who asked, the terminal × week table of
:func:`callao.targeting.service.workflow.figures`, and the model versions with the lists each
issued. Every value is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
from html import escape

CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
"""Content-Security-Policy of the dashboard pages: inline styles only, forms post to this server."""

_SUMS = ("lists", "listed", "inspections", "hits", "random_inspections", "random_hits", "kg_seized", "revenue_usd",
         "overrides_requested", "overrides_approved", "overrides_refused")

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;max-width:1200px}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.6em 0 .4em}
table{border-collapse:collapse;margin:.3em 0}th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.muted{color:#666}
.bar{display:inline-block;height:.8em;background:#2b6cb0;vertical-align:middle}
.bar.base{background:#a0aec0}.cell{white-space:nowrap;text-align:left;min-width:12em}
form.out{float:right}
"""


def _rate(hits: int, n: int) -> float | None:
    return hits / n if n else None


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def totals(rows: list[dict], key: str) -> list[dict]:
    """The figures rows summed by ``key`` (``terminal`` or ``week``), with hit rate, random
    baseline and override requesters recomputed from the sums."""
    out: dict[str, dict] = {}
    for r in rows:
        t = out.setdefault(r[key], {key: r[key], **{k: 0 for k in _SUMS}, "override_requests_by": {}})
        for k in _SUMS:
            t[k] += r[k]
        for who, n in r["override_requests_by"].items():
            t["override_requests_by"][who] = t["override_requests_by"].get(who, 0) + n
    for t in out.values():
        t["hit_rate"] = _rate(t["hits"], t["inspections"])
        t["random_baseline"] = _rate(t["random_hits"], t["random_inspections"])
    return [out[k] for k in sorted(out)]


def _bars(hit: float | None, base: float | None, scale: float) -> str:
    """Two horizontal bars: the hit rate (blue) over the random baseline (grey)."""
    def bar(x: float | None, cls: str) -> str:
        w = 0 if x is None or scale <= 0 else max(1, round(160 * x / scale))
        return f'<span class="{cls}" style="width:{w}px"></span> {_pct(x)}'
    return f'{bar(hit, "bar")}<br>{bar(base, "bar base")}'


def _who(by: dict[str, int]) -> str:
    return ", ".join(f"{escape(str(w))} ({n})" for w, n in sorted(by.items(), key=lambda x: (-x[1], x[0]))) or "–"


def _summary_table(rows: list[dict], key: str, label: str) -> str:
    scale = max([r["hit_rate"] or 0 for r in rows] + [r["random_baseline"] or 0 for r in rows] + [0.0])
    head = (f'<tr><th class="l">{label}</th><th>lists</th><th>listed</th><th>inspections</th><th>hits</th>'
            '<th class="cell">hit rate / <span class="muted">random baseline</span></th><th>kg seized</th>'
            '<th>revenue USD</th><th>overrides asked / approved / refused</th><th class="l">asked by</th></tr>')
    body = "".join(
        f'<tr><td class="l">{escape(str(r[key]))}</td><td>{r["lists"]}</td><td>{r["listed"]}</td>'
        f'<td>{r["inspections"]}</td><td>{r["hits"]}</td>'
        f'<td class="cell">{_bars(r["hit_rate"], r["random_baseline"], scale)}</td>'
        f'<td>{_num(r["kg_seized"])}</td><td>{_num(r["revenue_usd"])}</td>'
        f'<td>{r["overrides_requested"]} / {r["overrides_approved"]} / {r["overrides_refused"]}</td>'
        f'<td class="l">{_who(r["override_requests_by"])}</td></tr>' for r in rows)
    return f"<table>{head}{body}</table>" if rows else '<p class="muted">No list issued yet.</p>'


def _detail_table(rows: list[dict]) -> str:
    if not rows:
        return '<p class="muted">No list issued yet.</p>'
    head = ('<tr><th class="l">terminal</th><th class="l">week</th><th>lists</th><th>listed</th><th>inspections</th>'
            '<th>hits</th><th>hit rate</th><th>random baseline</th><th>kg seized</th><th>overrides</th></tr>')
    body = "".join(
        f'<tr><td class="l">{escape(r["terminal"])}</td><td class="l">{escape(r["week"])}</td><td>{r["lists"]}</td>'
        f'<td>{r["listed"]}</td><td>{r["inspections"]}</td><td>{r["hits"]}</td><td>{_pct(r["hit_rate"])}</td>'
        f'<td>{_pct(r["random_baseline"])}</td><td>{_num(r["kg_seized"])}</td><td>{r["overrides_requested"]}</td></tr>'
        for r in rows)
    return f"<table>{head}{body}</table>"


def _p_at(metrics: dict, rate: float) -> str:
    for row in (metrics or {}).get("at_rates", []):
        if abs(float(row.get("rate", -1)) - rate) < 1e-9:
            return _pct(row.get("precision"))
    return "–"


def _versions_table(versions: list[dict]) -> str:
    if not versions:
        return '<p class="muted">No model trained yet.</p>'
    head = ('<tr><th>version</th><th class="l">trained</th><th class="l">data until</th><th>labelled</th>'
            '<th>from outcomes</th><th>held-out base rate</th><th>P@5 %</th><th class="l">promoted</th>'
            '<th>lists issued</th></tr>')
    body = "".join(
        f'<tr><td>#{v["id"]}{" (in use)" if v["in_use"] else ""}</td><td class="l">{escape(v["created_at"] or "")}</td>'
        f'<td class="l">{escape(v["trained_until"])}</td><td>{v["n_labelled"]}</td><td>{v["n_outcome_labels"]}</td>'
        f'<td>{_pct((v["metrics"] or {}).get("base_rate"))}</td><td>{_p_at(v["metrics"], 0.05)}</td>'
        f'<td class="l">{escape(v["promoted_at"] or "–")}{" by " + escape(v["promoted_by"]) if v["promoted_by"] else ""}</td>'
        f'<td>{v["lists"]}</td></tr>' for v in versions)
    return f"<table>{head}{body}</table>"


def page(title: str, body: str) -> str:
    """A complete HTML document."""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style></head>'
            f"<body>{body}</body></html>")


def render(figures: list[dict], versions: list[dict], user: str, now: dt.datetime) -> str:
    """The dashboard page from :func:`~callao.targeting.service.workflow.figures` rows and the
    model versions (dicts with ``id, created_at, trained_until, n_labelled, n_outcome_labels,
    metrics, promoted_at, promoted_by, in_use, lists``)."""
    by_terminal, by_week = totals(figures, "terminal"), totals(figures, "week")
    unit = totals([{**r, "unit": "all terminals"} for r in figures], "unit")
    body = (
        '<form class="out" method="post" action="/dashboard/logout"><button>log out</button></form>'
        f"<h1>Port control unit: figures</h1><p class=\"muted\">{escape(user)} · {escape(now.isoformat(timespec='seconds'))}"
        " · hit rate = hits / inspections recorded; random baseline = hit rate of the exploration picks (drawn at "
        'random outside the top of the ranking). Same figures as JSON: <code>GET /api/figures</code>.</p>'
        f"<h2>Unit</h2>{_summary_table(unit, 'unit', 'unit')}"
        f"<h2>By terminal</h2>{_summary_table(by_terminal, 'terminal', 'terminal')}"
        f"<h2>By week</h2>{_summary_table(by_week, 'week', 'ISO week')}"
        f"<h2>Terminal × week</h2>{_detail_table(figures)}"
        f"<h2>Model versions</h2>{_versions_table(versions)}"
    )
    return page("callao targeting: unit figures", body)


def login_form(error: str | None = None) -> str:
    """The dashboard's sign-in form (posts to ``/dashboard/login``)."""
    msg = f'<p style="color:#b00">{escape(error)}</p>' if error else ""
    return page("callao targeting: sign in", (
        "<h1>Port control unit: sign in</h1>"
        '<p class="muted">Supervisors only. Every sign-in, successful or not, is an audit entry.</p>'
        f'{msg}<form method="post" action="/dashboard/login">'
        '<p><label>user <input name="username" autocomplete="username" required maxlength="64"></label></p>'
        '<p><label>password <input name="password" type="password" autocomplete="current-password" required '
        'maxlength="256"></label></p><p><button>sign in</button></p></form>'))
