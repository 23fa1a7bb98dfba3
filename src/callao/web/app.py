"""The Dash app: map of the bay with moving vessels, KPI cards and plots, comparisons, runs started
from the page, downloads. ``create_app(results_dir)`` builds it; ``callao serve`` runs it.

Everything it needs ships with Dash and this package (no CDN, no map tiles): it works offline.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
from collections import OrderedDict
from pathlib import Path

import dash
import plotly.io as pio
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from flask import g, jsonify, request, send_file

from callao.kpis import HEADLINE, display_names, kpi_info
from callao.report.plots import sections
from callao.results import Results
from callao.web import figures
from callao.web.guard import DASH_CALLBACK, LOOPBACK_NAMES, Guard
from callao.web.jobs import MIN_YEARS, YEARS_LIMIT, Jobs, bundled
from callao.web.positions import busiest_time
from callao.web.runs import FORECAST_FILES, ROOT_ID, RUN_FILES, Run, Store, WebError

log = logging.getLogger(__name__)
MAX_BUSY = 4
"""Callbacks computing at once; more requests wait their turn."""
SPEEDS = {"1": 1.0, "6": 6.0, "24": 24.0}  # simulated hours per animation tick
TICK_MS = 500

CARDS = tuple(dict.fromkeys([k for k, _, _ in HEADLINE] + [
    "turnaround_mean_h", "gate_trucks_per_day_mean", "customs_scans", "customs_exams", "detection_hits"]))
"""The KPIs shown as cards (labels and units from :func:`callao.kpis.kpi_info`), then per terminal
berth occupancy and yard utilisation."""


def kpi_cards(r: Results) -> list:
    """One card per headline KPI: human label, value with its unit; the KPI's name as a tooltip."""
    kpis, names = r.kpis, display_names(r.scenario)
    keys = [k for k in CARDS if k in kpis]
    keys += [f"{prefix}{t.name}" for t in r.scenario.terminals
             for prefix in ("berth_occupancy_", "yard_utilisation_") if f"{prefix}{t.name}" in kpis]
    cards = []
    for key in keys:
        info = kpi_info(key, names)
        cards.append(html.Div([html.Div(info.label, className="kpi-label"),
                               html.Div(info.format(kpis[key]), className="kpi-value")],
                              className="kpi-card", id=f"kpi-{key}", title=key))
    return cards


def run_plots(r: Results) -> list:
    """The report's figures (one set of builders for report and dashboard), as page sections."""
    out = []
    for sec in sections(r):  # figures as plain JSON data: built and encoded once per run, not per request
        figure = json.loads(pio.to_json(sec.figure, validate=False)) if sec.figure is not None else None
        body = (dcc.Graph(id=f"plot-{sec.slug}", figure=figure, config={"displaylogo": False})
                if sec.figure is not None else html.P(sec.note, className="muted"))
        out.append(html.Div([html.H3(sec.title), html.P(sec.caption, className="caption"), body],
                            className="plot-card", id=f"card-{sec.slug}"))
    return out


def _json_error(status: int, message: str):
    resp = jsonify({"error": message, "status": status})
    resp.status_code = status
    return resp


def _section(title: str, *children, id: str | None = None) -> html.Section:
    return html.Section([html.H2(title), *children], className="panel", id=id or f"section-{title.split()[0].lower()}")


def create_app(results_dir: str | Path = "out", max_years: float = 1.0, hosts: set[str] | None = None,
               token: str | None = None, max_disk_gb: float = 5.0) -> dash.Dash:
    """The dashboard over ``results_dir``; runs started from the page may last up to ``max_years``
    and the results folder may hold up to ``max_disk_gb`` GB before new runs are refused.

    ``hosts``: the names accepted in the ``Host`` header (default: the loopback names; pass
    ``None`` only with a token); ``token``: the access token every request must carry (see
    :mod:`callao.web.guard`)."""
    if not 0 < max_years <= YEARS_LIMIT:
        raise ValueError(f"max_years {max_years}: expected a number in (0, {YEARS_LIMIT:g}]")
    if hosts is None and token is None:
        hosts = set(LOOPBACK_NAMES)
    store = Store(results_dir)
    jobs = Jobs(store.root, max_years=max_years, max_disk_bytes=int(max_disk_gb * 1e9))
    app = dash.Dash(
        __name__, title="callao — Port of Callao twin", update_title=None, serve_locally=True,
        assets_folder=str(Path(__file__).with_name("assets")), suppress_callback_exceptions=True,
    )
    app.store, app.jobs = store, jobs  # for tests and embedding
    server = app.server
    Guard(hosts, token, app.callback_map).install(server)
    _routes(server, store, jobs)
    names = bundled()

    busy = threading.BoundedSemaphore(MAX_BUSY)

    def callback(*args, **kwargs):
        """``app.callback`` whose function never answers a malformed request with a 500 (an
        unexpected error is logged and the outputs are left as they are), and of which at most
        :data:`MAX_BUSY` run at once (the others wait: bounded CPU and memory under many users)."""
        def register(fn):
            @functools.wraps(fn)
            def safe(*a, **k):
                try:
                    with busy:
                        return fn(*a, **k)
                except PreventUpdate:
                    raise
                except Exception:  # noqa: BLE001
                    log.exception("callback %s failed", fn.__name__)
                    raise PreventUpdate from None

            return app.callback(*args, **kwargs)(safe)

        return register

    app.layout = html.Div([
        html.Header([
            html.H1(["callao", html.Span(" — digital twin of the Port of Callao", className="subtitle")]),
            html.Div([
                html.Label("Run", htmlFor="run-select"),
                dcc.Dropdown(id="run-select", clearable=False, placeholder="no runs yet", style={"minWidth": "340px"}),
                html.Button("↻ refresh", id="refresh", n_clicks=0, className="btn"),
                html.Span(f"results folder: {store.root}", className="muted", id="results-root"),
            ], className="header-row"),
        ]),
        html.Div(id="run-error", className="banner hidden", role="alert"),
        html.Div(id="run-summary", className="run-summary"),
        _section("Map of the bay", html.Div([
            dcc.Graph(id="bay-map", config={"displaylogo": False, "scrollZoom": True},
                      style={"height": "620px"}, className="map"),
            html.Div([
                html.Div(id="closure-banner", className="banner hidden"),
                html.Div(id="map-status", className="status big"),
                html.Div([
                    html.Button("▶ play", id="play", n_clicks=0, className="btn btn-primary"),
                    html.Label("hour", htmlFor="time-input"),
                    dcc.Input(id="time-input", type="number", min=0, step=0.5, value=0, debounce=True,
                              style={"width": "150px"}),
                ], className="controls"),
                html.Div([html.Span("view", className="muted"),
                          html.Button("ships", id="view-ships", n_clicks=0, className="btn"),
                          html.Button("whole bay", id="view-bay", n_clicks=0, className="btn"),
                          html.Button("harbour", id="view-harbour", n_clicks=0, className="btn"),
                          dcc.Store(id="map-view", data="ships")], className="controls"),
                html.Div([html.Span("speed", className="muted"),
                          dcc.RadioItems(id="speed", value="6", inline=True,
                                         options=[{"label": f" {k} h/tick ", "value": k} for k in SPEEDS])],
                         className="controls"),
                html.Div([html.Div([html.Span(sym, style={"color": col}), f" {label}"], className="legend-item")
                          for sym, col, label in (
                              ("●", "#e8890c", "waiting at anchorage (stable spot per ship)"),
                              ("▲", "#1f6fd1", "in the channel, inbound or outbound"),
                              ("■", "#1a9850", "at berth, at its quay position"),
                              ("◆", "#222", "naval movement in the channel"),
                              ("- -", "#c0392b", "channel drawn red: port closed"))],
                         className="legend", id="map-legend"),
                html.P("Geography drawn from the project's sources (docs/sources.md): approximate, not for navigation. "
                       "The anchorage and the naval base's exact locations are not published. "
                       "Scroll or drag on the map to zoom.",
                       className="muted"),
            ], className="map-side"),
        ], className="map-row"),
            dcc.Slider(id="time-slider", min=0, max=24, step=0.5, value=0, updatemode="mouseup",
                       allow_direct_input=False, tooltip={"placement": "bottom", "always_visible": False}),
            dcc.Interval(id="play-interval", interval=TICK_MS, disabled=True), id="section-map"),
        _section("Key figures", html.Div(id="kpi-cards", className="kpi-grid"),
                 html.Div(id="run-plots", className="plot-grid"),
                 html.Div(id="run-files", className="files"), id="section-kpis"),
        _section("Forecast", html.Div([
            html.Label("forecast", htmlFor="fc-select"),
            dcc.Dropdown(id="fc-select", clearable=False, placeholder="no forecasts (callao forecast … --out DIR)",
                         style={"minWidth": "300px"}),
        ], className="controls"),
            html.Div(id="fc-error", className="banner hidden", role="alert"),
            html.Div(id="fc-summary", className="run-summary"), html.Div(id="fc-files", className="files"),
            dcc.Graph(id="fc-fan", config={"displaylogo": False}),
            html.H3("By day"), html.P("queue: mean number of ships at the anchorage over the day; wait: mean "
                                      "anchorage wait of the ships arriving that day (hours). Bands: 80% and 95% "
                                      "prediction.", className="caption"),
            html.Div(id="fc-daily"),
            html.H3("Ships waiting at the start: predicted berthing time (UTC)"), html.Div(id="fc-ships"),
            html.H3("The bay at the start, from data"),
            html.P("orange ●: waiting at the anchorage · green ■: alongside, at its observed quay position · "
                   "blue ▲: in the channel, inbound", className="caption"),
            dcc.Graph(id="fc-map", config={"displaylogo": False, "scrollZoom": True}, style={"height": "620px"}),
            id="section-forecast"),
        _section("Start a run", html.Div([
            html.Label("scenario", htmlFor="new-scenario"),
            dcc.Dropdown(id="new-scenario", options=names, value="callao" if "callao" in names else names[0],
                         clearable=False, style={"minWidth": "200px"}),
            html.Label("seed", htmlFor="new-seed"),
            dcc.Input(id="new-seed", type="text", inputMode="numeric", value="1", style={"width": "90px"}),
            html.Label(f"years ({MIN_YEARS:.4f} to {max_years:g})", htmlFor="new-years"),
            dcc.Input(id="new-years", type="text", inputMode="decimal", value=f"{min(0.1, max_years):g}",
                      style={"width": "90px"}),
            html.Button("Run", id="start-run", n_clicks=0, className="btn btn-primary"),
        ], className="controls"),
            html.Div([html.Div(id="job-bar", className="bar", style={"width": "0%"})], className="progress"),
            html.Div(id="job-status", className="status"),
            dcc.Interval(id="job-poll", interval=400, disabled=True),
            dcc.Store(id="job-id"), dcc.Store(id="job-done"), id="section-new"),
        _section("Compare scenarios", html.Div([
            html.Label("comparison", htmlFor="comp-select"),
            dcc.Dropdown(id="comp-select", clearable=False, placeholder="no comparisons (callao compare … --out DIR)",
                         style={"minWidth": "300px"}),
            html.Label("KPIs", htmlFor="comp-kpis"),
            dcc.Dropdown(id="comp-kpis", multi=True, style={"minWidth": "420px", "flex": "1"}),
        ], className="controls"), html.Div(id="comp-files", className="files"), dcc.Graph(id="fig-compare"),
            id="section-compare"),
    ], className="page")

    # --- run and comparison lists ---------------------------------------------------------------
    @callback(Output("run-select", "options"), Output("run-select", "value"),
                  Output("comp-select", "options"), Output("comp-select", "value"),
                  Input("refresh", "n_clicks"), Input("job-done", "data"),
                  State("run-select", "value"), State("comp-select", "value"))
    def _lists(_, done, run_value, comp_value):
        entries = store.scan()
        runs = [{"label": e.label, "value": e.id} for e in entries if e.kind == "run"]
        comps = [{"label": e.label, "value": e.id} for e in entries if e.kind == "comparison"]
        ids = {o["value"] for o in runs}
        if ctx.triggered_id == "job-done" and done in ids:
            run_value = done
        elif run_value not in ids:
            run_value = runs[0]["value"] if runs else None
        cids = {o["value"] for o in comps}
        if comp_value not in cids:
            comp_value = comps[0]["value"] if comps else None
        return runs, run_value, comps, comp_value

    def _load(run_id) -> tuple[Run | None, str | None]:
        """The selected run, or None and the reason it cannot be shown."""
        if not run_id:
            return None, None
        try:
            return store.load(run_id), None
        except WebError as e:
            log.warning("run %s: %s", str(run_id)[:80], e.message)
            return None, e.message

    # --- time control ---------------------------------------------------------------------------
    @callback(Output("time-slider", "value"), Output("time-slider", "max"), Output("time-slider", "marks"),
                  Output("time-input", "value"), Output("time-input", "max"),
                  Input("time-slider", "value"), Input("time-input", "value"), Input("play-interval", "n_intervals"),
                  Input("run-select", "value"), State("speed", "value"))
    def _time(slider, typed, _tick, run_id, speed):
        run, _ = _load(run_id)
        r = run.results if run is not None else None
        end = float(math.ceil(run.once("end_h", figures.end_h))) if run is not None else 24.0
        trig = ctx.triggered_id
        if trig == "run-select" or trig is None:
            t = busiest_time(r.vessels, min(end, r.horizon_h)) if r is not None else 0.0
        elif trig == "time-input":
            t = _hour(typed)
            if t is None:
                return (no_update,) * 5
        elif trig == "play-interval":
            t = (_hour(slider) or 0.0) + SPEEDS.get(str(speed), 6.0)
            if t > end:
                t = 0.0
        else:
            t = _hour(slider) or 0.0
        t = min(max(t, 0.0), end)
        step_days = max(1, int(end / 24 / 8))
        marks = {int(d * 24): f"d{d}" for d in range(0, int(end // 24) + 1, step_days)}
        return t, end, marks, t, end

    @callback(Output("play-interval", "disabled"), Output("play", "children"),
                  Input("play", "n_clicks"), prevent_initial_call=True)
    def _play(n):
        playing = bool(n) and n % 2 == 1
        return not playing, "⏸ pause" if playing else "▶ play"

    # --- map ------------------------------------------------------------------------------------
    @callback(Output("map-view", "data"), Input("view-ships", "n_clicks"), Input("view-bay", "n_clicks"),
              Input("view-harbour", "n_clicks"),
                  prevent_initial_call=True)
    def _view(_a, _b, _c):
        return str(ctx.triggered_id).removeprefix("view-") if ctx.triggered_id else "ships"

    @callback(Output("bay-map", "figure"), Output("map-status", "children"), Output("closure-banner", "children"),
                  Output("closure-banner", "className"),
                  Input("time-slider", "value"), Input("run-select", "value"), Input("map-view", "data"))
    def _map(t, run_id, view):
        from callao.web.positions import active_closures, naval_positions, vessel_positions
        from callao.web.geo import bay

        run, error = _load(run_id)
        r = run.results if run is not None else None
        t = _hour(t) or 0.0
        fig = figures.map_figure(r, t, view if isinstance(view, str) and view in figures.VIEWS else "ships")
        if r is None:
            return fig, error or "no run selected", "", "banner hidden"
        geo = bay(figures.geometry_key(r))
        pos = vessel_positions(r.vessels, t, geo)
        counts = pos["state"].value_counts()
        nav = naval_positions(r.naval, t, geo)
        status = (f"hour {t:,.1f} (day {t / 24:,.1f}): {counts.get('waiting', 0)} waiting · "
                  f"{counts.get('inbound', 0) + counts.get('outbound', 0)} in channel · "
                  f"{counts.get('berthed', 0)} at berth")
        if len(nav):
            status += f" · {len(nav)} naval movement{'s' if len(nav) > 1 else ''} in the channel"
        cl = active_closures(r.closures, t)
        if len(cl):
            parts = [f"{r.port} closed ({getattr(r, 'reason', 'closure')}) from hour {r.start_h:,.0f} to {r.end_h:,.0f}"
                     for r in cl.itertuples(index=False)]
            return fig, status, "⚠ " + "; ".join(parts), "banner"
        return fig, status, "", "banner hidden"

    # --- KPIs and plots -------------------------------------------------------------------------
    @callback(Output("kpi-cards", "children"), Output("run-plots", "children"), Output("run-files", "children"),
              Output("run-summary", "children"), Output("run-error", "children"), Output("run-error", "className"),
              Input("run-select", "value"))
    def _kpis(run_id):
        run, error = _load(run_id)
        if run is None:
            if error:  # nothing of another run stays on the page
                return [], [], "", "", f"⚠ {error}", "banner"
            msg = html.P(f"No run in {store.root}. Start one below, or `callao run --out {store.root}/NAME`.")
            return [msg], [], "", "", "", "banner hidden"
        r = run.results
        links = [html.Span("Download: ", className="muted")]
        for name in RUN_FILES:
            if (run.folder / name).is_file():
                links.append(html.A(name, href=_download_url(run.id, name), className="file-link", target="_blank"))
        summary = html.Div([html.B(r.scenario.name), f" · seed {r.seed} · {r.horizon_h / 24:,.1f} days · "
                            f"{len(r.vessels):,} calls · folder {run.folder.name if run.id != ROOT_ID else run.folder}"])
        return (run.once("cards", kpi_cards), run.once("plots", run_plots), links, summary, "", "banner hidden")

    # --- comparison -----------------------------------------------------------------------------
    @callback(Output("comp-kpis", "options"), Output("comp-kpis", "value"), Output("comp-files", "children"),
                  Input("comp-select", "value"))
    def _comp_kpis(comp_id):
        if not comp_id:
            return [], [], ""
        try:
            df = store.comparison(comp_id)
        except WebError as e:
            return [], [], html.Span(e.message, className="error")
        links = [html.Span("Download: ", className="muted")]
        for name in ("comparison.csv", "report.html"):
            if (store.folder(comp_id, "comparison") / name).is_file():
                links.append(html.A(name, href=_download_url(comp_id, name), className="file-link", target="_blank"))
        options = [{"label": kpi_info(k).title, "value": k} for k in sorted(set(df["kpi"]))]
        return options, figures.default_kpis(df), links

    @callback(Output("fig-compare", "figure"), Input("comp-select", "value"), Input("comp-kpis", "value"))
    def _compare(comp_id, kpis):
        if not comp_id:
            return figures.empty_figure("Comparison", "no comparison in the results folder")
        try:
            df = store.comparison(comp_id)
        except WebError as e:
            return figures.empty_figure("Comparison", e.message)
        return figures.comparison_figure(df, list(kpis or []))

    # --- forecast -------------------------------------------------------------------------------
    @callback(Output("fc-select", "options"), Output("fc-select", "value"),
              Input("refresh", "n_clicks"), State("fc-select", "value"))
    def _forecast_list(_, value):
        options = [{"label": e.label, "value": e.id} for e in store.scan() if e.kind == "forecast"]
        if value not in {o["value"] for o in options}:
            value = options[0]["value"] if options else None
        return options, value

    @callback(Output("fc-fan", "figure"), Output("fc-map", "figure"), Output("fc-daily", "children"),
              Output("fc-ships", "children"), Output("fc-summary", "children"), Output("fc-files", "children"),
              Output("fc-error", "children"), Output("fc-error", "className"), Input("fc-select", "value"))
    def _forecast(fc_id):
        from callao.web.forecasts import daily_table, ships_table, table

        if not fc_id:
            empty = figures.empty_figure("Forecast", "no forecast in the results folder: callao forecast … --out DIR")
            return empty, figures.map_figure(None, 0.0), "", "", "", "", "", "banner hidden"
        try:
            view = store.forecast(fc_id)
        except WebError as e:  # nothing of another forecast stays on the page
            log.warning("forecast %s: %s", str(fc_id)[:80], e.message)
            empty = figures.empty_figure("Forecast", "cannot be shown")
            return empty, figures.map_figure(None, 0.0), "", "", "", "", f"⚠ {e.message}", "banner"
        f = view.forecast
        links = [html.Span("Download: ", className="muted")] + [
            html.A(name, href=_download_url(view.id, name), className="file-link", target="_blank")
            for name in FORECAST_FILES if (view.folder / name).is_file()]
        reps = f", {f.replications} replications" if f.replications else ""
        summary = html.Div([html.B(f.state.summary()), f" · {f.days} days{reps}"])
        return (view.fan(), view.bay(), table(view.once("daily", daily_table), "fc-daily-table"),
                table(view.once("ships", ships_table), "fc-ships-table"), summary, links, "", "banner hidden")

    # --- runs from the page ---------------------------------------------------------------------
    @callback(Output("job-id", "data"), Output("job-poll", "disabled"), Output("job-status", "children"),
                  Input("start-run", "n_clicks"), State("new-scenario", "value"), State("new-seed", "value"),
                  State("new-years", "value"), prevent_initial_call=True)
    def _start(_, scenario, seed, years):
        try:
            job = jobs.start(scenario, seed, years)
        except WebError as e:
            return no_update, True, html.Span(e.message, className="error")
        return job.id, False, f"started {job.scenario}, seed {job.seed}, {job.years:g} years…"

    @callback(Output("job-bar", "style"), Output("job-status", "children", allow_duplicate=True),
                  Output("job-poll", "disabled", allow_duplicate=True), Output("job-done", "data"),
                  Input("job-poll", "n_intervals"), State("job-id", "data"), prevent_initial_call=True)
    def _poll(_, job_id):
        if not job_id:
            return no_update, no_update, True, no_update
        try:
            job = jobs.get(job_id)
        except WebError as e:
            return {"width": "0%"}, html.Span(e.message, className="error"), True, no_update
        width = {"width": f"{100 * job.fraction:.0f}%"}
        if job.status == "running":
            return width, f"{job.stage} — {100 * job.fraction:.0f}%", False, no_update
        if job.status == "failed":
            return width, html.Span(f"run failed: {job.error}", className="error"), True, no_update
        return width, html.Span([f"done: {job.run_id} ", html.A("kpis.json", href=_download_url(job.run_id, "kpis.json"))],
                                id="job-finished"), True, job.run_id

    _cache_run_responses(server, store, next(k for k in app.callback_map if "kpi-cards.children" in k))
    return app


def _cache_run_responses(server, store: Store, output: str, keep: int = 8) -> None:
    """Answer the KPI-and-plots callback of a run from the encoded response of its first request,
    while the run's files are unchanged (path, size, modification time): many users looking at a
    run cost one build and one encoding. Runs after the guard, so only valid requests get here."""
    responses: OrderedDict[tuple, bytes] = OrderedDict()
    lock = threading.Lock()

    @server.before_request
    def _answer_from_cache():
        if request.path != DASH_CALLBACK or request.method != "POST":
            return None
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or body.get("output") != output:
            return None
        run_id = (body.get("inputs") or [{}])[0].get("value")
        try:
            folder = store.folder(run_id, "run")
        except WebError:
            return None
        key = (str(folder), store.identity(folder), run_id)
        with lock:
            hit = responses.get(key)
        if hit is not None:
            return server.response_class(hit, mimetype="application/json")
        g.callao_response_key = key
        return None

    @server.after_request
    def _keep(resp):
        key = g.pop("callao_response_key", None)
        if key is not None and resp.status_code == 200 and not resp.direct_passthrough:
            with lock:
                responses[key] = resp.get_data()
                while len(responses) > keep:
                    responses.popitem(last=False)
        return resp


def _hour(value) -> float | None:
    """A time in hours from a control's value, or None when it is not a finite number."""
    try:
        t = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return t if math.isfinite(t) else None


def _finite(v):
    return v if not isinstance(v, float) or math.isfinite(v) else None


def _download_url(entry_id: str, name: str) -> str:
    return f"/download/{entry_id}/{name}"


def _routes(server, store: Store, jobs: Jobs) -> None:
    """JSON API and downloads; every refusal is a 4xx JSON body, never a traceback."""

    def guard(fn):
        def wrapped(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except WebError as e:
                return _json_error(e.status, e.message)
            except Exception:  # noqa: BLE001
                log.exception("request failed: %s", request.path)
                return _json_error(500, "internal error; see the server log")

        wrapped.__name__ = fn.__name__
        return wrapped

    own = {"download", "download_bad", "api_runs", "api_run", "api_start", "api_job", "api_positions", "api_forecast"}

    @server.before_request
    def _refuse_unrouted():  # e.g. /download//etc/passwd would otherwise reach Dash's catch-all page
        path = request.path
        if (path.startswith(("/download", "/api/")) or path == "/api") and request.endpoint not in own:
            return _json_error(400 if path.startswith("/download") else 404,
                               "malformed path: expected /download/<run id>/<file name>"
                               if path.startswith("/download") else f"no API endpoint {path[:80]!r}")
        return None

    @server.route("/download/<path:entry_id>/<name>")
    @guard
    def download(entry_id: str, name: str):
        path = store.file(entry_id, name)
        mimetype = {"json": "application/json", "html": "text/html", "csv": "text/csv"}.get(
            path.suffix.lstrip("."), "application/octet-stream")
        return send_file(path, mimetype=mimetype, as_attachment=path.suffix != ".html", download_name=name,
                         max_age=0)

    @server.route("/download/<name>")
    @guard
    def download_bad(name: str):
        raise WebError(400, "expected /download/<run id>/<file name>")

    @server.route("/api/runs", methods=["GET"])
    @guard
    def api_runs():
        return jsonify([{"id": e.id, "kind": e.kind, "mtime": e.mtime} for e in store.scan()])

    @server.route("/api/runs/<path:run_id>", methods=["GET"])
    @guard
    def api_run(run_id: str):
        run = store.load(run_id)
        r = run.results
        return jsonify({"id": run.id, "scenario": r.scenario.name, "seed": r.seed, "horizon_h": r.horizon_h,
                        "files": [n for n in RUN_FILES if (run.folder / n).is_file()],
                        "kpis": {k: _finite(v) for k, v in r.kpis.items()}})

    @server.route("/api/forecasts/<path:forecast_id>", methods=["GET"])
    @guard
    def api_forecast(forecast_id: str):
        f = store.forecast(forecast_id).forecast
        return jsonify({"id": forecast_id, "at": f.at.isoformat(), "days": f.days, "replications": f.replications,
                        "waiting": len(f.state.waiting), "alongside": len(f.state.alongside),
                        "daily": json.loads(f.daily.to_json(orient="records", date_format="iso")),
                        "ships": json.loads(f.ships.to_json(orient="records", date_format="iso"))})

    @server.route("/api/runs", methods=["POST"])
    @guard
    def api_start():
        body = request.get_json(silent=True)  # the guard has refused anything but JSON
        if not isinstance(body, dict):
            raise WebError(400, "expected a JSON object {scenario, seed, years}")
        job = jobs.start(body.get("scenario", "callao"), body.get("seed", 0), body.get("years"))
        resp = jsonify(job.as_dict())
        resp.status_code = 202
        return resp

    @server.route("/api/jobs/<job_id>", methods=["GET"])
    @guard
    def api_job(job_id: str):
        return jsonify(jobs.get(job_id).as_dict())

    @server.route("/api/positions/<path:run_id>", methods=["GET"])
    @guard
    def api_positions(run_id: str):
        from callao.web.geo import bay
        from callao.web.positions import vessel_positions

        raw = request.args.get("t", "0")
        try:
            t = float(raw)
        except ValueError:
            raise WebError(400, f"t {raw[:40]!r}: expected a number of hours") from None
        if not math.isfinite(t):
            raise WebError(400, f"t {raw[:40]!r}: expected a finite number of hours")
        r = store.load(run_id).results
        pos = vessel_positions(r.vessels, t, bay(figures.geometry_key(r)))
        return jsonify(pos[["vessel_id", "state", "lon", "lat", "terminal"]].to_dict(orient="records"))
