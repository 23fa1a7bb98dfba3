"""The validated model of a port: what a scenario TOML file may contain.

Every field has a unit in its name or description. Times are in hours unless the name says days;
lengths and depths in metres; volumes in TEU or moves (one container lifted on or off a vessel).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, field_validator, \
    model_serializer, model_validator

from callao.scenario.distributions import Constant, Distribution, Exponential
from callao.scenario.merge import merge

FLOWS = ("import", "export", "empty_in", "empty_out", "transship")
"""Container flows. ``empty_in`` is discharged and leaves by truck; ``empty_out`` arrives by truck
and is loaded; ``transship`` is discharged and loaded onto a later call at the same terminal."""


MAX_CALLS_PER_YEAR_PER_STREAM = 20_000.0
"""A tramp stream above this (55 calls a day) is a mistake: a busy port sees a few thousand a year."""

MAX_CALLS_PER_RUN = 500_000
"""Vessel calls a run may expect (calls a year x years): a bound that keeps every run tractable."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _shares_sum_to_one(shares: dict[str, float], what: str) -> dict[str, float]:
    if any(v < 0 for v in shares.values()):
        raise ValueError(f"{what} shares must be >= 0, got {shares}")
    total = sum(shares.values())
    if shares and abs(total - 1.0) > 1e-6:
        raise ValueError(f"{what} shares must sum to 1, got {total:.4f}")
    return shares


class Simulation(Section):
    """Run length and output switches."""

    years: float = Field(1.0, gt=0, le=1000, description="simulated horizon, years of 8,760 h")
    warmup_days: float = Field(0.0, ge=0, description="days excluded from waiting-time KPIs")
    spin_up_days: float = Field(
        0.0, ge=0, le=3650, description="days simulated before hour 0 (at negative times) so the horizon "
                                        "starts in steady state (yard stock, queues); excluded from every KPI")
    start_utc: datetime = Field(
        datetime(2024, 1, 1, tzinfo=timezone.utc),
        description="the calendar time (UTC) of simulated hour 0; maps run hours to timestamps "
                    "for AIS export, replay and forecasts",
    )
    containers: bool = Field(
        True, description="simulate container-level flows (false: vessels only, as a pure queue)"
    )

    @field_validator("start_utc")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)
    demand_factor: float = Field(
        1.0, gt=0, description="multiplies every call's moves (1.0 = calibrated year)"
    )


class VesselClass(Section):
    """A family of ships with the same dimensions."""

    name: str
    loa_m: float = Field(gt=0, description="length overall, metres")
    draft_m: float = Field(gt=0, description="laden draft, metres")
    teu_capacity: int = Field(gt=0)
    max_cranes: int = Field(ge=1, description="most quay cranes that can work the ship at once")


class Terminal(Section):
    """A container terminal with one continuous quay, a crane pool and a yard."""

    name: str
    label: str = ""
    quay_length_m: float = Field(gt=0)
    depth_m: float = Field(gt=0, description="depth alongside, metres")
    berth_clearance_m: float = Field(
        0.0, ge=0, description="gap kept free between berthed ships, metres"
    )
    cranes: int = Field(ge=1, description="ship-to-shore cranes in the pool")
    crane_spacing_m: float | None = Field(
        None, gt=0, description="hull length each crane needs (its gantry plus the bays kept free "
                                "between cranes), metres: a ship of L m takes at most floor(L / spacing) "
                                "cranes (none: no length rule)")
    max_cranes_per_ship: int | None = Field(
        None, ge=1, description="the terminal's deployment rule: most cranes it puts on one ship")
    moves_per_crane_hour: float = Field(gt=0, description="gross moves per crane-hour")
    mooring_h: float = Field(0.0, ge=0, description="berthing and preparation before work, hours")
    unmooring_h: float = Field(0.0, ge=0, description="lashing checks and unberthing, hours")
    yard_capacity_teu: float = Field(1.0, gt=0, description="yard capacity, TEU")
    rated_capacity_teu_per_year: float | None = Field(
        None, gt=0, description="the terminal's published capacity, TEU a year (for capacity_utilisation_<terminal>)")
    gate_lanes: int = Field(1, ge=1, description="truck gate lanes (each terminal has its own gate)")
    lon: float | None = Field(None, description="quay midpoint longitude, degrees (for maps)")
    lat: float | None = Field(None, description="quay midpoint latitude, degrees")
    port: str = Field("callao", description="the port whose channel and closures the terminal shares")

    def cranes_per_ship(self, loa_m: float, class_max: int) -> int:
        """Most cranes this terminal puts on a ship of ``loa_m`` metres whose class allows
        ``class_max``: the smallest of the class's maximum, the length rule and the terminal's
        rule, and at least one. The pool shares its cranes among the ships at berth up to this."""
        n = class_max
        if self.crane_spacing_m:
            n = min(n, int(loa_m // self.crane_spacing_m))
        if self.max_cranes_per_ship:
            n = min(n, self.max_cranes_per_ship)
        return max(n, 1)


class CallSize(Section):
    """How many moves a call makes and how they split."""

    moves_per_call: Distribution = Field(description="moves (discharge + load) per call")
    discharge_share: float = Field(0.5, ge=0, le=1, description="share of moves that are discharge")


class Service(CallSize):
    """A scheduled liner service calling every ``interval_days`` at one terminal."""

    name: str
    terminal: str
    vessel_class: str
    region: str = Field(description="trade region the service links Callao to")
    interval_days: float = Field(7.0, ge=0.5, description="days between calls (at least half a day)")
    first_window_h: float = Field(0.0, ge=0, description="first berthing window after the start, hours")
    lateness_h: Distribution = Field(
        default=Constant(dist="constant", value=0.0),
        description="arrival minus window, hours (normal with low < 0 allows early arrivals)",
    )
    alternatives: list[str] = Field(
        default=[], description="other terminals the service may call instead, chosen per call by route_choice"
    )


class Tramp(CallSize):
    """Unscheduled arrivals of one vessel class at one terminal: a Poisson stream."""

    name: str
    terminal: str
    vessel_class: str
    region: str = "other"
    calls_per_year: float = Field(gt=0, le=MAX_CALLS_PER_YEAR_PER_STREAM)


class Channel(Section):
    """The approach channel and harbour entrance that every vessel transits, and its rules:
    compulsory pilotage from a pool of pilots, tugs by vessel length from a pool of tugs, and a
    daylight rule for the largest ships. Each rule is off by default (0 pilots, 0 tugs, no
    daylight length)."""

    transit_h: float = Field(0.0, ge=0, description="time to transit between anchorage and berth")
    one_way_loa_m: float = Field(
        1e9, gt=0, description="vessels at least this long need the channel to themselves"
    )
    pilots: int = Field(0, ge=0, le=1000, description="pilots on duty (0: no compulsory pilotage); "
                                                     "each transit takes one for boarding + transit")
    pilot_boarding_h: Distribution = Field(
        default=Constant(dist="constant", value=0.0),
        description="pilot launch run and boarding before a transit, hours (the pilot is busy from "
                    "the request being granted until the transit ends)")
    pilot_outbound: bool = Field(True, description="outbound transits need a pilot too")
    tugs: int = Field(0, ge=0, le=1000, description="tugs in the pool (0: no tug rule)")
    tugs_by_loa: list[tuple[float, int]] = Field(
        default=[(0.0, 1)], description="[[min_loa_m, tugs], ...]: a ship takes the tugs of the "
                                        "largest min_loa_m not above its length")
    tug_assist_h: float = Field(0.0, ge=0, description="tugs stay after the transit to push the "
                                                       "ship on or off the berth, hours")
    daylight_loa_m: float | None = Field(
        None, gt=0, description="ships at least this long transit only in daylight (none: no rule)")
    sunrise_local_h: float = Field(6.0, ge=0, lt=24, description="local hour from which daylight transits may start")
    sunset_local_h: float = Field(18.0, gt=0, le=24, description="local hour by which a daylight transit must end")
    utc_offset_h: float = Field(-5.0, ge=-14, le=14, description="local time minus UTC, hours (Lima: -5)")

    @model_validator(mode="after")
    def _rules(self):
        if self.sunset_local_h <= self.sunrise_local_h:
            raise ValueError(f"sunset_local_h ({self.sunset_local_h}) must be after sunrise_local_h "
                             f"({self.sunrise_local_h})")
        if self.daylight_loa_m is not None and self.transit_h > self.sunset_local_h - self.sunrise_local_h:
            raise ValueError(f"transit_h ({self.transit_h}) does not fit in the daylight window "
                             f"{self.sunrise_local_h}-{self.sunset_local_h} h: daylight ships could never sail")
        if not self.tugs_by_loa or any(n < 0 or loa < 0 for loa, n in self.tugs_by_loa):
            raise ValueError(f"tugs_by_loa must list [min_loa_m >= 0, tugs >= 0] pairs, got {self.tugs_by_loa}")
        return self

    def tugs_for(self, loa_m: float) -> int:
        """Tugs a ship of ``loa_m`` metres needs (0 when the channel has no tug pool)."""
        if not self.tugs:
            return 0
        fits = [(loa, n) for loa, n in sorted(self.tugs_by_loa) if loa <= loa_m]
        return fits[-1][1] if fits else 0

    def needs_daylight(self, loa_m: float) -> bool:
        return self.daylight_loa_m is not None and loa_m >= self.daylight_loa_m


class Naval(Section):
    """Naval movements through the shared waters, on their own schedule and with priority."""

    movements_per_day: float = Field(0.0, ge=0, le=48, description="mean naval movements a day (at most one every 30 min)")
    duration_h: float = Field(0.5, ge=0, le=24, description="channel time blocked per movement, hours")
    day_start_h: float = Field(0.0, ge=0, lt=24, description="earliest hour of day for movements")
    day_end_h: float = Field(24.0, gt=0, le=24, description="latest hour of day for movements")

    @model_validator(mode="after")
    def _window(self):
        if self.day_end_h <= self.day_start_h:
            raise ValueError(
                f"day_end_h ({self.day_end_h}) must be after day_start_h ({self.day_start_h})"
            )
        return self


class Season(Section):
    months: list[int] = Field(min_length=1, description="calendar months 1-12")
    events_per_month: float = Field(ge=0, le=10)

    @field_validator("months")
    @classmethod
    def _months(cls, v: list[int]) -> list[int]:
        bad = [m for m in v if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"months must be 1..12, got {bad}")
        return v


class FixedClosure(Section):
    start_h: float = Field(ge=0)
    duration_h: float = Field(gt=0)
    reason: str = "closure"


class Closures(Section):
    """Port closures: random swell events by season, random tsunami alerts (any month), plus fixed
    ones (a blockade, a drill)."""

    seasons: list[Season] = []
    duration_h: Distribution = Field(default=Constant(dist="constant", value=48.0),
                                     description="duration of a swell closure, hours")
    tsunami_alerts_per_year: float = Field(0.0, ge=0, le=12, description="tsunami alerts that close the port, a year")
    tsunami_duration_h: Distribution = Field(default=Constant(dist="constant", value=36.0),
                                             description="duration of a tsunami-alert closure, hours")
    fixed: list[FixedClosure] = []
    stop_cranes: bool = Field(True, description="crane work stops during a closure too")


class Dwell(Section):
    """The shippers' and consignees' behaviour, days, by flow (the yard dwell is an outcome):
    import: the consignee's pick-up delay after customs release; empty_in: pick-up delay after
    discharge; export and empty_out: delivery by truck before the ship's arrival (no later than
    the cut-off, so anchorage waits and closures add to the dwell); transship: the minimum
    connection."""

    import_: Distribution = Field(alias="import")
    export: Distribution
    empty_in: Distribution
    empty_out: Distribution
    transship: Distribution

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def for_flow(self, flow: str) -> Distribution:
        return self.import_ if flow == "import" else getattr(self, flow)


class Cargo(Section):
    """What the boxes are."""

    discharge_mix: dict[str, float] = Field(
        default={"import": 0.7, "empty_in": 0.1, "transship": 0.2},
        description="shares of discharged moves by flow (import, empty_in, transship)",
    )
    load_mix: dict[str, float] = Field(
        default={"export": 0.6, "empty_out": 0.2, "transship": 0.2},
        description="shares of loaded moves by flow (export, empty_out, transship)",
    )
    forty_ft_share: float = Field(0.6, ge=0, le=1, description="share of boxes that are 40-foot")
    reefer_share_import: float = Field(0.05, ge=0, le=1)
    export_commodities: dict[str, float] = Field(
        default={"general": 1.0}, description="export commodity shares (dry boxes)"
    )
    reefer_commodities: dict[str, float] = Field(
        default={"fruit": 1.0}, description="export commodity shares among reefers"
    )
    reefer_share_export: float = Field(0.3, ge=0, le=1)
    destinations: dict[str, dict[str, float]] = Field(
        default={"other": {"other": 1.0}}, description="region -> destination port -> share"
    )

    @field_validator("discharge_mix")
    @classmethod
    def _dmix(cls, v):
        extra = set(v) - {"import", "empty_in", "transship"}
        if extra:
            raise ValueError(f"unknown discharge flows {sorted(extra)}; expected import, empty_in, transship")
        return _shares_sum_to_one(v, "discharge_mix")

    @field_validator("load_mix")
    @classmethod
    def _lmix(cls, v):
        extra = set(v) - {"export", "empty_out", "transship"}
        if extra:
            raise ValueError(f"unknown load flows {sorted(extra)}; expected export, empty_out, transship")
        return _shares_sum_to_one(v, "load_mix")

    @field_validator("export_commodities", "reefer_commodities")
    @classmethod
    def _commodities(cls, v):
        return _shares_sum_to_one(v, "commodity")

    @field_validator("destinations")
    @classmethod
    def _destinations(cls, v):
        for region, ports in v.items():
            _shares_sum_to_one(ports, f"destinations.{region}")
        return v


class Channels(Section):
    """Shares of customs channels: green (released), orange (non-intrusive scan), red (physical exam)."""

    green: float = Field(ge=0, le=1)
    orange: float = Field(ge=0, le=1)
    red: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self):
        _shares_sum_to_one({"green": self.green, "orange": self.orange, "red": self.red}, "channel")
        return self


class Targeting(Section):
    """Risk targeting of export containers (cocaine in legitimate exports), day by day.

    Every export box gets a declaration; a share carries cocaine (kg). Each day the port control
    unit inspects as many export boxes as its share of the day's inspection capacity processes:
    ``scanner_share`` of the pool's scanner-hours (``scanners`` × 24 h × ``scans_per_hour``) and
    ``exam_share`` of its exam teams' ``exams_per_day`` (the rest serves the import channels), so
    more scanners or exam teams mean more boxes inspected; the boxes are chosen by
    ``policy``: ``random``; ``profile`` (a fixed rule on commodity and destination);
    ``model`` (the learned risk model, top of the ranking) or ``model_explore`` (the same with
    ``exploration_share`` of the picks spent at random so the model keeps learning). Found loads
    become labels; the model retrains every ``retrain_days`` on the last ``history_days``;
    smugglers adapt every ``adapt_days`` toward less-watched commodities, destinations and
    exporter types (``adaptiveness`` 0..1)."""

    policy: Literal["random", "profile", "model", "model_explore"] = "model_explore"
    scanner_share: float = Field(
        0.16, ge=0, le=1, description="share of the pool's scanner capacity spent on export targeting")
    exam_share: float = Field(
        0.25, ge=0, le=1, description="share of the pool's exam-team capacity spent on export targeting")
    exploration_share: float = Field(0.1, ge=0, le=1)
    retrain_days: int = Field(30, ge=1)
    history_days: int = Field(120, ge=7)
    warmup_days: int = Field(30, ge=1, description="days of profile-based selection before the first model")
    scan_detection: float = Field(0.7, ge=0, le=1, description="chance a scan finds a load")
    exam_detection: float = Field(0.95, ge=0, le=1, description="chance a physical exam finds a load")
    contraband_share: float = Field(0.004, ge=0, le=1, description="expected share of export boxes with cocaine")
    front_company_share: float = Field(0.35, ge=0, le=1, description="share of loads shipped by front companies")
    front_box_share: float = Field(0.01, ge=0, le=1, description="share of export boxes shipped by front companies")
    adaptiveness: float = Field(0.5, ge=0, le=1)
    adapt_days: int = Field(30, ge=1)



class Customs(Section):
    """Customs clearance and inspection capacity."""

    import_channels: Channels = Channels(green=1.0, orange=0.0, red=0.0)
    export_channels: Channels = Channels(green=1.0, orange=0.0, red=0.0)
    anticipated_share: float = Field(
        0.0, ge=0, le=1, description="share of imports declared before arrival (cleared at discharge)"
    )
    documentary_h: Distribution = Field(
        default=Constant(dist="constant", value=0.0),
        description="processing time of a declaration not anticipated, hours",
    )
    scanners: int = Field(1, ge=1)
    scans_per_hour: float = Field(10.0, gt=0, description="per scanner")
    scan_h: float = Field(1.0, ge=0, description="positioning + scan + image review, hours")
    exams_per_day: float = Field(50.0, gt=0, description="physical examinations per day, all teams")
    exam_h: Distribution = Field(
        default=Constant(dist="constant", value=24.0),
        description="duration of a physical exam incl. unstuffing and restuffing, hours",
    )
    targeting: Targeting | None = Field(
        None, description="risk targeting of exports (replaces export_channels when set)")


class Gate(Section):
    """Truck gates (lanes are per terminal, ``Terminal.gate_lanes``; each terminal's gate is one
    FIFO queue over its lanes) and the corridor to Lima. A truck visit brings one box (in),
    takes one (out) or does both (a dual cycle); each kind has its service-time distribution
    (default: exponential with mean ``service_min``, 1.5 × that for a dual cycle)."""

    service_min: float = Field(gt=0, description="mean gate transaction per truck, minutes")
    service_in_min: Distribution | None = Field(
        None, description="gate transaction of a truck bringing one box, minutes")
    service_out_min: Distribution | None = Field(
        None, description="gate transaction of a truck taking one box, minutes")
    service_dual_min: Distribution | None = Field(
        None, description="gate transaction of a dual-cycle truck (drops one box, takes one), minutes")
    dual_cycle_share: float = Field(
        0.0, ge=0, le=1, description="share of trucks bringing a box that try to take one back out")
    dual_cycle_window_h: float = Field(
        3.0, ge=0, description="a dual cycle takes a box whose owner wanted it within this many hours")
    appointment_share: float = Field(
        0.0, ge=0, le=1, description="share of trucks with an appointment (slots spread evenly over the day)")
    staging_trucks: int = Field(
        0, ge=0, description="trucks the staging area (antepuerto) holds; a longer gate queue waits on the road")
    hourly_profile: list[float] = Field(
        default=[1.0] * 24, min_length=24, max_length=24,
        description="relative truck arrivals by hour of day (0-23)",
    )
    corridor_h: float = Field(1.0, ge=0, description="free-flow travel time to Lima, hours")
    corridor_peak_factor: list[float] = Field(
        default=[1.0] * 24, min_length=24, max_length=24,
        description="travel-time multiplier by hour of day",
    )

    @field_validator("hourly_profile")
    @classmethod
    def _profile(cls, v):
        if any(x < 0 for x in v) or sum(v) <= 0:
            raise ValueError("hourly_profile needs 24 non-negative weights, not all zero")
        return v

    def service(self, kind: Literal["in", "out", "dual"]) -> Distribution:
        """Service-time distribution (minutes) of a truck visit of this kind."""
        own = {"in": self.service_in_min, "out": self.service_out_min, "dual": self.service_dual_min}[kind]
        if own is not None:
            return own
        return Exponential(dist="exponential", mean=self.service_min * (1.5 if kind == "dual" else 1.0))


class PortCustoms(Section):
    """A port's own inspection capacity (scan and exam durations are the home customs')."""

    scanners: int = Field(ge=1)
    exams_per_day: float = Field(gt=0, description="physical examinations per day, all teams")


PORT_SECTIONS = ("channel", "naval", "closures")
"""A port's sections that a scenario file may write at its top level for the home port."""


def home_port_first(data: Any) -> Any:
    """A scenario dict in the file format → the model's form: the top-level ``channel``, ``naval``
    and ``closures`` are the home port's (merged onto a ``[[ports]]`` entry of that name if there
    is one, overriding it key by key), and the home port becomes the first of ``ports``, created
    with defaults if the file names it nowhere."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    home = data.get("home_port", "callao")
    top = {k: data.pop(k) for k in PORT_SECTIONS if k in data}
    ports = data.get("ports", [])
    if not isinstance(ports, list):
        return data  # validation names the field
    ports = [p.model_dump(by_alias=True) if isinstance(p, Port) else p for p in ports]
    named = [i for i, p in enumerate(ports) if isinstance(p, dict) and p.get("name") == home]
    entry = ports.pop(named[0]) if named else {"name": home}
    if top:
        entry = merge(entry, {k: v.model_dump(by_alias=True) if isinstance(v, BaseModel) else v
                              for k, v in top.items()})
    data["ports"] = [entry, *ports]
    return data


class Port(Section):
    """A port the scenario simulates: its approach channel, naval movements and closures (which
    every terminal of the port shares), its road to Lima and its customs. Every port, the home port
    included, is one of these (``Scenario.ports``)."""

    name: str
    channel: Channel = Channel()
    naval: Naval = Naval()
    closures: Closures = Closures()
    corridor_h: float | None = Field(
        None, ge=0, description="free-flow travel time from this port's gates to Lima, hours "
                                "(default: gate.corridor_h)")
    customs: PortCustoms | None = Field(
        None, description="this port's own scanners and exam teams (default: it shares the home port's)")


class RouteChoice(Section):
    """Which port a service with ``alternatives`` calls: a multinomial logit, per call, on
    utility = asc[port] - beta_per_day * (sailing_days[port][region] + expected_wait_h / 24),
    where expected_wait_h is the mean anchorage wait of the port's last ``memory_calls`` calls."""

    beta_per_day: float = Field(0.5, ge=0, description="utility lost per day of sailing or waiting")
    memory_calls: int = Field(10, ge=1)
    sailing_days: dict[str, dict[str, float]] = Field(
        default={}, description="port -> region -> sailing days to the region's main ports")
    asc: dict[str, float] = Field(default={}, description="port -> alternative-specific constant")


class Scenario(Section):
    """A whole port: the root of a scenario file."""

    name: str
    description: str = ""
    simulation: Simulation = Simulation()
    vessel_classes: list[VesselClass] = Field(min_length=1)
    terminals: list[Terminal] = Field(min_length=1)
    services: list[Service] = []
    tramp: list[Tramp] = []
    home_port: str = Field("callao", description="the port the scenario is about: the first of ``ports``, whose "
                                                 "channel, naval and closures a file may write as top-level sections")
    ports: list[Port] = Field(default=[], description="every port simulated, the home port first")
    route_choice: RouteChoice = RouteChoice()
    cargo: Cargo = Cargo()
    dwell_days: Dwell | None = None
    customs: Customs = Customs()
    gate: Gate | None = None

    @model_validator(mode="before")
    @classmethod
    def _home_port_first(cls, data: Any) -> Any:
        return home_port_first(data)

    @model_serializer(mode="wrap")
    def _file_format(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The model → the file format: the home port's channel, naval and closures as top-level
        sections (where old files, overlays and ``--vary channel.pilots`` expect them), the
        other ports as ``ports``. Validating the dump gives the same scenario."""
        data = handler(self)
        if not data.get("ports"):  # excluded from the dump
            return data
        home, *others = data.pop("ports")
        out: dict[str, Any] = {}
        for key, value in data.items():
            out[key] = value
            if key == "home_port":
                out.update({k: home.pop(k) for k in PORT_SECTIONS if k in home})
                rest = {k: v for k, v in home.items() if v is not None and k != "name"}
                out["ports"] = [*([home] if rest else []), *others]
        return out

    @model_validator(mode="after")
    def _references(self):
        classes = {c.name: c for c in self.vessel_classes}
        terminals = {t.name: t for t in self.terminals}
        for kind, calls in (("services", self.services), ("tramp", self.tramp)):
            for i, call in enumerate(calls):
                where = f"{kind}[{i}] ({call.name})"
                if call.vessel_class not in classes:
                    raise ValueError(
                        f"{where}.vessel_class: {call.vessel_class!r} is not a vessel class; "
                        f"expected one of {sorted(classes)}"
                    )
                if call.terminal not in terminals:
                    raise ValueError(
                        f"{where}.terminal: {call.terminal!r} is not a terminal; "
                        f"expected one of {sorted(terminals)}"
                    )
                for alt in getattr(call, "alternatives", []):
                    if alt not in terminals:
                        raise ValueError(f"{where}.alternatives: {alt!r} is not a terminal; "
                                         f"expected some of {sorted(terminals)}")
                for name in [call.terminal, *getattr(call, "alternatives", [])]:
                    self._check_fit(where, classes[call.vessel_class], terminals[name])
        ports = self.port_names
        twice = sorted({p for p in ports if ports.count(p) > 1})
        if twice:
            raise ValueError(f"ports: {twice} listed more than once; expected one [[ports]] entry per port")
        for i, t in enumerate(self.terminals):
            if t.port not in ports:
                raise ValueError(f"terminals[{i}] ({t.name}).port: {t.port!r} is not a port; "
                                 f"expected one of {sorted(ports)} (home_port or a [[ports]] entry)")
        for port in self.ports:
            ch = port.channel
            for t in self.terminals:
                if t.port != port.name:
                    continue
                for vc in classes.values():
                    need = ch.tugs_for(vc.loa_m)
                    if need > ch.tugs > 0:
                        raise ValueError(
                            f"ports ({port.name}).channel.tugs = {ch.tugs} (the top-level channel is the home "
                            f"port's): vessel class {vc.name!r} (loa_m={vc.loa_m}) needs {need} tugs by "
                            f"tugs_by_loa; expected a pool of at least {need}")
        if not self.services and not self.tramp:
            raise ValueError("a scenario needs at least one service or tramp stream of vessel calls")
        per_year = sum(t.calls_per_year for t in self.tramp) + sum(365.0 / s.interval_days for s in self.services)
        if per_year * self.simulation.years > MAX_CALLS_PER_RUN:
            raise ValueError(
                f"simulation.years = {self.simulation.years} with {per_year:,.0f} vessel calls a year "
                f"expects {per_year * self.simulation.years:,.0f} vessel calls: expected at most "
                f"{MAX_CALLS_PER_RUN:,} per run (shorten the horizon or run replications)")
        if self.simulation.containers:
            missing = [s for s in ("dwell_days", "gate") if getattr(self, s) is None]
            if missing:
                raise ValueError(
                    f"simulation.containers is true, so sections {missing} are required "
                    "(or set simulation.containers = false for a vessels-only run)"
                )
        return self

    @staticmethod
    def _check_fit(where: str, vc: VesselClass, t: Terminal) -> None:
        if vc.loa_m > t.quay_length_m:
            raise ValueError(
                f"{where}: vessel class {vc.name!r} (loa_m={vc.loa_m}) fits no berth at "
                f"{t.name!r}: expected loa_m <= quay_length_m={t.quay_length_m}"
            )
        if vc.draft_m > t.depth_m:
            raise ValueError(
                f"{where}: vessel class {vc.name!r} (draft_m={vc.draft_m}) fits no berth at "
                f"{t.name!r}: expected draft_m <= depth_m={t.depth_m}"
            )

    def port_settings(self, port: str) -> Port:
        """The port called ``port`` (its channel, naval movements, closures); a :class:`KeyError`
        naming the known ones otherwise."""
        for p in self.ports:
            if p.name == port:
                return p
        raise KeyError(f"port {port!r}: expected one of {self.port_names}")

    @property
    def home(self) -> Port:
        """The home port (the first of ``ports``)."""
        return self.ports[0]

    @property
    def port_names(self) -> list[str]:
        """Every port's name, the home port first."""
        return [p.name for p in self.ports]

    def inspection_pool(self, terminal: "Terminal") -> tuple[str, int, float]:
        """``(pool, scanners, exams per day)`` serving a terminal: its port's own customs, or the
        home port's (``customs``), which every port without its own shares."""
        own = self.port_settings(terminal.port).customs
        if own is None:
            return self.home_port, self.customs.scanners, self.customs.exams_per_day
        return terminal.port, own.scanners, own.exams_per_day

    def inspection_pools(self) -> list[tuple[str, int, float]]:
        """The distinct ``(pool, scanners, exams per day)`` of the terminals, in terminal order."""
        return list(dict.fromkeys(self.inspection_pool(t) for t in self.terminals))

    def corridor_h(self, terminal: "Terminal") -> float:
        """Free-flow hours from the terminal's gates to Lima (its port's, else ``gate.corridor_h``)."""
        own = self.port_settings(terminal.port).corridor_h
        return self.gate.corridor_h if own is None else own

    def terminal(self, name: str) -> Terminal:
        """The terminal called ``name``; a :class:`KeyError` naming the known ones otherwise."""
        for t in self.terminals:
            if t.name == name:
                return t
        raise KeyError(f"terminal {name!r}: expected one of {[t.name for t in self.terminals]}")

    def vessel_class(self, name: str) -> VesselClass:
        return next(c for c in self.vessel_classes if c.name == name)

    @property
    def horizon_h(self) -> float:
        return self.simulation.years * 8760.0
