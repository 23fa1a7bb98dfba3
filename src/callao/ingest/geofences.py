"""The bay's geofences: anchorage areas, approach channels, harbour basins and berths, in metres.

Read from a GeoJSON file (the bundled ``web/data/callao_bay.geojson`` or the user's own, same
``kind`` properties). What is used:

* ``kind: "anchorage"`` (Polygon, ``port``): the anchorage area.
* ``kind: "channel"`` (LineString, ``port``): the approach channel's centre line; the geofence is a
  corridor of ``width_m`` (property, default 500 m) around it, cut square at both ends. The end
  farther from the port's quays is the seaward end.
* ``kind: "quay"`` (LineString, ``port``, ``terminal``): a terminal's quay line; its berth geofence is
  a strip ``berth_width_m`` (property, default 100 m) wide alongside it on the water side (the side
  that overlaps less with land, terminal yards and other polygons).
* ``kind: "entrance"`` (Point, ``port``): kept for drawing; not a zone.
* ``kind: "area_of_interest"`` (Polygon, optional): positions outside it are refused. Without one,
  each port's area of interest is the envelope of its anchorage, channel and quays grown by 20 km.
* ``kind`` land / island / peninsula / terminal / breakwater / naval_base: obstacles; ship tracks in
  ``calls export`` go around them and berth strips face away from them.

Everything is projected to a local plane (metres east and north of the features' centre; under
0.1% scale error across the 70 km from Callao to Chancay) so that widths, distances and quay
positions are in metres. Zones are looked up for millions of positions at once: one array lookup
in a grid of each port's zones, and :func:`shapely.contains_xy` only for the positions in cells a
zone boundary crosses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.ops import unary_union

BUNDLED_GEOFENCES = Path(str(resources.files("callao"))) / "web" / "data" / "callao_bay.geojson"
"""The bay drawn for the dashboard: Callao and Chancay anchorages, channels and quays."""

EARTH_RADIUS_M = 6_371_008.8
SEA, ANCHORAGE, CHANNEL, HARBOUR, BERTH = 0, 1, 2, 3, 4
KIND_NAMES = {SEA: "sea", ANCHORAGE: "anchorage", CHANNEL: "channel", HARBOUR: "harbour", BERTH: "berth"}
OUTSIDE = -1
"""Zone code of a position outside the area of interest."""

OBSTACLE_KINDS = {"land", "island", "peninsula", "terminal", "naval_base", "breakwater"}
DEFAULT_CHANNEL_WIDTH_M = 500.0
DEFAULT_BERTH_WIDTH_M = 100.0
DEFAULT_AOI_MARGIN_M = 20_000.0
HARBOUR_MARGIN_M = 300.0


class GeofenceError(ValueError):
    """A geofence file that cannot be used (the message names the file and what is wrong)."""


@dataclass(frozen=True)
class Zone:
    """One geofence: its code (index in :attr:`Geofences.zones`), kind, port and terminal."""

    code: int
    kind: int
    port: str
    terminal: str | None
    polygon: Polygon
    """In projected metres."""


@dataclass
class Port:
    """A port's geofences, projected (metres)."""

    name: str
    anchorage: Polygon | None
    channel: LineString  # seaward end first
    quays: dict[str, LineString] = field(default_factory=dict)


@dataclass
class Geofences:
    """The zones of a bay, in a local metric projection. Build with :meth:`load`."""

    source: str
    lon0: float
    lat0: float
    ports: dict[str, Port]
    zones: list[Zone]
    aoi: Polygon
    obstacles: list[Polygon]

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(cls, path: str | Path | None = None) -> "Geofences":
        """Read a GeoJSON FeatureCollection (default: the bundled bay). Raises :class:`GeofenceError`."""
        path = Path(path) if path is not None else BUNDLED_GEOFENCES
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            features = doc["features"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
            raise GeofenceError(f"{path}: expected a GeoJSON FeatureCollection ({e})") from None
        return cls.from_features(features, source=str(path))

    @classmethod
    def from_features(cls, features: list[dict], source: str = "<features>") -> "Geofences":
        geoms = []
        for i, f in enumerate(features):
            props = f.get("properties") or {}
            try:
                geoms.append((props, shape(f["geometry"])))
            except Exception as e:  # shapely raises several types for bad geometry
                raise GeofenceError(f"{source}: feature {i} ({props.get('name', '?')}): bad geometry ({e})") from None
        kinds = {p.get("kind") for p, _ in geoms}
        for needed in ("channel", "quay"):
            if needed not in kinds:
                raise GeofenceError(f"{source}: no feature of kind '{needed}'; expected anchorage, channel "
                                    "and quay features with 'port' (and 'terminal' for quays) properties")
        used = [g for p, g in geoms if p.get("kind") in ("anchorage", "channel", "quay", "entrance")]
        c = unary_union(used).centroid
        lon0, lat0 = float(c.x), float(c.y)
        kx = EARTH_RADIUS_M * np.pi / 180 * np.cos(np.radians(lat0))
        ky = EARTH_RADIUS_M * np.pi / 180

        def proj(g):
            return shapely.transform(g, lambda xy: np.column_stack([(xy[:, 0] - lon0) * kx, (xy[:, 1] - lat0) * ky]))

        obstacles = []
        for p, g in geoms:
            if p.get("kind") in OBSTACLE_KINDS:
                g = proj(g)
                obstacles.append(g.buffer(20.0) if g.geom_type in ("LineString", "MultiLineString") else g)
        obstacles = [g for g in obstacles if g.area > 0]
        port_names = sorted({p["port"] for p, _ in geoms if p.get("kind") in ("channel", "quay") and p.get("port")})
        ports: dict[str, Port] = {}
        props_of: dict[str, dict] = {}
        for name in port_names:
            mine = [(p, proj(g)) for p, g in geoms if p.get("port") == name]
            anch = [g for p, g in mine if p.get("kind") == "anchorage" and g.geom_type in ("Polygon", "MultiPolygon")]
            chans = [(p, g) for p, g in mine if p.get("kind") == "channel" and g.geom_type == "LineString"]
            quays = {p.get("terminal") or p.get("name"): g for p, g in mine
                     if p.get("kind") == "quay" and g.geom_type == "LineString"}
            if not chans or not quays:
                raise GeofenceError(f"{source}: port '{name}' needs a channel LineString and at least one quay "
                                    "LineString (with a 'terminal' property)")
            cprops, channel = chans[0]
            quay_union = unary_union(list(quays.values()))
            start, end = Point(channel.coords[0]), Point(channel.coords[-1])
            if start.distance(quay_union) < end.distance(quay_union):
                channel = LineString(channel.coords[::-1])
            ports[name] = Port(name, unary_union(anch) if anch else None, channel, quays)
            props_of[name] = cprops

        zones: list[Zone] = []

        def add(kind: int, port: str, terminal: str | None, poly) -> None:
            zones.append(Zone(len(zones) + 1, kind, port, terminal, poly))

        # lowest priority first: later zones overwrite earlier ones where they overlap
        for name, port in ports.items():
            if port.anchorage is not None:
                add(ANCHORAGE, name, None, port.anchorage)
        for name, port in ports.items():
            inner = Point(port.channel.coords[-1])
            add(HARBOUR, name, None, unary_union([inner, *port.quays.values()]).convex_hull.buffer(HARBOUR_MARGIN_M))
        for name, port in ports.items():
            width = float(props_of[name].get("width_m", DEFAULT_CHANNEL_WIDTH_M))
            add(CHANNEL, name, None, port.channel.buffer(width / 2, cap_style="flat"))
        land = unary_union(obstacles) if obstacles else Polygon()
        for name, port in ports.items():
            for terminal, quay in port.quays.items():
                qprops = next((p for p, g in geoms if p.get("kind") == "quay"
                               and (p.get("terminal") or p.get("name")) == terminal), {})
                add(BERTH, name, terminal, berth_strip(quay, float(qprops.get("berth_width_m", DEFAULT_BERTH_WIDTH_M)),
                                                       land))
        aois = [proj(g) for p, g in geoms if p.get("kind") == "area_of_interest" and g.area > 0]
        if aois:
            aoi = unary_union(aois)
        else:
            parts = []
            for port in ports.values():
                pieces = [port.channel, *port.quays.values()] + ([port.anchorage] if port.anchorage else [])
                parts.append(shapely.envelope(unary_union(pieces)).buffer(DEFAULT_AOI_MARGIN_M, join_style="mitre"))
            aoi = unary_union(parts)
        return cls(source, lon0, lat0, ports, zones, aoi, obstacles)

    # ------------------------------------------------------------ projection
    @property
    def _k(self) -> tuple[float, float]:
        return EARTH_RADIUS_M * np.pi / 180 * np.cos(np.radians(self.lat0)), EARTH_RADIUS_M * np.pi / 180

    def project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Degrees → metres east and north of the bay's centre."""
        kx, ky = self._k
        return (np.asarray(lon, float) - self.lon0) * kx, (np.asarray(lat, float) - self.lat0) * ky

    def unproject(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metres → degrees (lon, lat)."""
        kx, ky = self._k
        return np.asarray(x, float) / kx + self.lon0, np.asarray(y, float) / ky + self.lat0

    # ---------------------------------------------------------------- lookup
    @property
    def kind_of(self) -> np.ndarray:
        """Zone code → kind (index 0 is the open sea)."""
        return np.array([SEA, *[z.kind for z in self.zones]], np.int8)

    @property
    def harbour_of(self) -> np.ndarray:
        """Zone code → the code of the same port's harbour zone (0 for the sea)."""
        harbour = {z.port: z.code for z in self.zones if z.kind == HARBOUR}
        return np.array([0, *[harbour[z.port] for z in self.zones]], np.int16)

    def zone_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Zone code of every position (metres): 0 open sea, -1 outside the area of interest,
        else the highest-priority zone containing it (berth > channel > harbour > anchorage)."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        code = np.zeros(x.size, np.int16)
        for grid in _zone_grids(self):
            grid.lookup(x, y, code)
        code[(code == SEA) & ~_contains(self.aoi, x, y)] = OUTSIDE
        return code

    def zone(self, code: int) -> Zone:
        return self.zones[code - 1]

    def quay_position(self, terminal: str, x: np.ndarray, y: np.ndarray, loa_m: np.ndarray) -> np.ndarray:
        """Metres from the quay line's start to the ship's stern end: the position (antenna taken
        as mid-ship) projected on the quay line minus half the length, clipped to the quay."""
        quay = self.quay(terminal)
        s = shapely.line_locate_point(quay, shapely.points(np.asarray(x, float), np.asarray(y, float)))
        half = np.nan_to_num(np.asarray(loa_m, float), nan=0.0) / 2
        return np.clip(s - half, 0.0, np.maximum(quay.length - 2 * half, 0.0))

    def quay(self, terminal: str) -> LineString:
        for port in self.ports.values():
            if terminal in port.quays:
                return port.quays[terminal]
        raise KeyError(f"no quay for terminal '{terminal}' in {self.source}; "
                       f"quays: {', '.join(self.terminals)}")

    @property
    def terminals(self) -> list[str]:
        return [t for p in self.ports.values() for t in p.quays]

    def port_of(self, terminal: str) -> str:
        return next(p.name for p in self.ports.values() if terminal in p.quays)


def berth_strip(quay: LineString, width_m: float, land) -> Polygon:
    """A strip ``width_m`` wide alongside the quay on its water side (the side overlapping less
    with ``land``), ending square at the quay's ends."""
    left = quay.buffer(width_m, single_sided=True, cap_style="flat")
    right = quay.buffer(-width_m, single_sided=True, cap_style="flat")
    if land.is_empty:
        return quay.buffer(width_m, cap_style="flat")
    return left if left.intersection(land).area <= right.intersection(land).area else right


def _contains(poly, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``shapely.contains_xy`` for the points inside the polygon's bounding box (numpy pre-filter;
    a polygon that is its own bounding box, like the default area of interest, needs nothing more)."""
    parts = getattr(poly, "geoms", [poly])
    if len(parts) > 1 and all(_is_box(p) for p in parts):
        out = np.zeros(x.size, bool)
        for p in parts:
            out |= _contains(p, x, y)
        return out
    x0, y0, x1, y1 = poly.bounds
    box = (x > x0) & (x < x1) & (y > y0) & (y < y1)
    if _is_box(poly):
        return box
    out = np.zeros(x.size, bool)
    if box.any():
        shapely.prepare(poly)
        out[box] = shapely.contains_xy(poly, x[box], y[box])
    return out


def _is_box(poly) -> bool:
    return poly.geom_type == "Polygon" and abs(poly.area - shapely.envelope(poly).area) <= 1e-9 * max(poly.area, 1.0)


class _ZoneGrid:
    """A port's zones painted on one grid of square cells (10 m, coarser for a very large port):
    a cell wholly inside a zone, with no boundary of a higher zone crossing it, holds that zone's
    code (0: open sea); a cell a boundary crosses holds -1, and its points are tested exactly with
    ``shapely.contains_xy``, zone by zone in priority order, each zone on the points inside its
    bounding box. One gather answers almost every point; the answers are the exact predicates'."""

    EDGE = -1

    def __init__(self, zones: list[Zone], cell_m: float = 10.0, max_cells: int = 4_000_000, refine: int = 8) -> None:
        self.zones = zones
        bounds = np.array([z.polygon.bounds for z in zones])
        x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
        x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
        self.bounds = (x0, y0, x1, y1)
        cell = max(cell_m, float(np.sqrt((x1 - x0) * (y1 - y0) / max_cells)))
        big = cell * refine  # built coarse to fine: only coarse cells a boundary crosses are refined
        self.x0, self.y0, self.cell = x0, y0, cell
        nbx, nby = int(np.ceil((x1 - x0) / big)) + 1, int(np.ceil((y1 - y0) / big)) + 1
        self.nx, self.ny = nbx * refine, nby * refine
        grid = np.zeros((self.nx, self.ny), np.int16)
        sub_a, sub_b = np.meshgrid(np.arange(refine), np.arange(refine), indexing="ij")
        for z in zones:  # lowest priority first: a higher zone overwrites where it reaches
            shapely.prepare(z.polygon)
            zx0, zy0, zx1, zy1 = z.polygon.bounds
            i0, j0 = int((zx0 - x0) // big), int((zy0 - y0) // big)
            i1, j1 = min(int((zx1 - x0) // big) + 1, nbx), min(int((zy1 - y0) // big) + 1, nby)
            gi, gj = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1), indexing="ij")
            inside, crossed = self._classify(z.polygon, x0 + (gi + 0.5) * big, y0 + (gj + 0.5) * big, big)
            block = grid[i0 * refine:i1 * refine, j0 * refine:j1 * refine]
            block[np.repeat(np.repeat(inside, refine, 0), refine, 1)] = z.code
            fi = (gi[crossed][:, None, None] * refine + sub_a).ravel()
            fj = (gj[crossed][:, None, None] * refine + sub_b).ravel()
            inside, crossed = self._classify(z.polygon, x0 + (fi + 0.5) * cell, y0 + (fj + 0.5) * cell, cell)
            grid[fi[inside], fj[inside]] = z.code
            grid[fi[crossed], fj[crossed]] = self.EDGE
        self.grid = grid.ravel()

    @staticmethod
    def _classify(poly, cx: np.ndarray, cy: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
        """(wholly inside, crossed by the boundary) for square cells of side ``cell`` centred on
        (cx, cy): a cell whose centre is farther from the boundary than its half-diagonal lies
        wholly on its centre's side."""
        crossed = shapely.distance(poly.boundary, shapely.points(cx, cy)) <= 0.7072 * cell
        return shapely.contains_xy(poly, cx, cy) & ~crossed, crossed

    def lookup(self, x: np.ndarray, y: np.ndarray, code: np.ndarray) -> None:
        """Write the zone code of every point inside the grid into ``code``."""
        x0, y0, x1, y1 = self.bounds
        idx = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        if idx.size == 0:
            return
        px, py = x[idx], y[idx]
        i = ((px - self.x0) / self.cell).astype(np.int64)
        j = ((py - self.y0) / self.cell).astype(np.int64)
        got = self.grid[i * self.ny + j]
        edge = np.flatnonzero(got == self.EDGE)
        if edge.size:
            ex, ey = px[edge], py[edge]
            exact = np.zeros(edge.size, np.int16)
            for z in self.zones:
                zx0, zy0, zx1, zy1 = z.polygon.bounds
                near = np.flatnonzero((ex >= zx0) & (ex <= zx1) & (ey >= zy0) & (ey <= zy1))
                if near.size:
                    exact[near[shapely.contains_xy(z.polygon, ex[near], ey[near])]] = z.code
            got[edge] = exact
        code[idx] = got


_GRIDS: dict[int, tuple[Geofences, list[_ZoneGrid]]] = {}


def _zone_grids(geo: Geofences) -> list[_ZoneGrid]:
    """One grid per port (built once per :class:`Geofences`)."""
    got = _GRIDS.get(id(geo))
    if got is None or got[0] is not geo:
        got = _GRIDS[id(geo)] = (geo, [_ZoneGrid([z for z in geo.zones if z.port == port]) for port in geo.ports])
    return got[1]
