"""The bay's geometry for the dashboard map, read from the bundled GeoJSON (lon/lat, WGS84).

``data/callao_bay.geojson`` is drawn by hand from the facts in ``docs/sources.md``: approximate but
recognisable, not for navigation. Conventions the positions rely on:

- a ``quay`` LineString starts at quay position 0 m and the sea is on the left of its direction;
- a ``channel`` LineString runs from its outer end (anchorage side) to its inner end (the basin);
- an ``anchorage`` Polygon's first four corners span the area ships wait in.

Terminals of a scenario without a drawn quay get one synthesised at their ``lon``/``lat``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

GEOJSON_PATH = Path(__file__).with_name("data") / "callao_bay.geojson"
KM_PER_DEG_LAT = 110.6
HOME_PORT = "callao"


def km_per_deg_lon(lat: float) -> float:
    return 111.32 * math.cos(math.radians(lat))


@lru_cache(maxsize=1)
def load_geojson() -> dict:
    """The bundled FeatureCollection (parsed once)."""
    return json.loads(GEOJSON_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Polyline:
    """A line in lon/lat with arc length in metres, for interpolation along it."""

    lon: np.ndarray
    lat: np.ndarray
    s_m: np.ndarray  # cumulative length at each vertex, metres

    @classmethod
    def from_coords(cls, coords) -> "Polyline":
        xy = np.asarray(coords, float)
        lon, lat = xy[:, 0], xy[:, 1]
        kx = km_per_deg_lon(float(lat.mean())) * 1000.0
        seg = np.hypot(np.diff(lon) * kx, np.diff(lat) * KM_PER_DEG_LAT * 1000.0)
        return cls(lon, lat, np.concatenate([[0.0], np.cumsum(seg)]))

    @property
    def length_m(self) -> float:
        return float(self.s_m[-1])

    def at(self, s_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points at arc lengths ``s_m`` (clipped to the line), vectorised."""
        s = np.clip(np.asarray(s_m, float), 0.0, self.length_m)
        return np.interp(s, self.s_m, self.lon), np.interp(s, self.s_m, self.lat)

    def at_fraction(self, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.at(np.clip(np.asarray(f, float), 0.0, 1.0) * self.length_m)

    def left_normal(self, s_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit normal (east, north components) pointing left of the line's direction at ``s_m``."""
        s = np.clip(np.asarray(s_m, float), 0.0, self.length_m)
        i = np.clip(np.searchsorted(self.s_m, s, side="right") - 1, 0, len(self.s_m) - 2)
        kx = km_per_deg_lon(float(self.lat.mean()))
        de = (self.lon[i + 1] - self.lon[i]) * kx
        dn = (self.lat[i + 1] - self.lat[i]) * KM_PER_DEG_LAT
        norm = np.hypot(de, dn)
        norm[norm == 0] = 1.0
        return -dn / norm, de / norm


def offset(lon: np.ndarray, lat: np.ndarray, east_m: np.ndarray, north_m: np.ndarray):
    """Move points by metres east/north."""
    lat0 = float(np.nanmean(lat)) if np.size(lat) else -12.0
    return (lon + east_m / (km_per_deg_lon(lat0) * 1000.0), lat + north_m / (KM_PER_DEG_LAT * 1000.0))


@dataclass
class Bay:
    """Quays by terminal, channels and anchorages by port, naval base and features to draw."""

    features: list[dict]
    quays: dict[str, Polyline] = field(default_factory=dict)
    channels: dict[str, Polyline] = field(default_factory=dict)
    anchorages: dict[str, np.ndarray] = field(default_factory=dict)  # port -> 4×2 corners
    terminal_port: dict[str, str] = field(default_factory=dict)

    def port_of(self, terminal: str) -> str:
        return self.terminal_port.get(terminal, HOME_PORT)

    def channel(self, port: str) -> Polyline:
        return self.channels.get(port) or self.channels[HOME_PORT]

    def anchorage(self, port: str) -> np.ndarray:
        a = self.anchorages.get(port)
        return a if a is not None else self.anchorages[HOME_PORT]


def features(kind: str | None = None, port: str | None = None) -> list[dict]:
    out = []
    for f in load_geojson()["features"]:
        p = f["properties"]
        if kind is not None and p.get("kind") != kind:
            continue
        if port is not None and p.get("port", HOME_PORT) != port:
            continue
        out.append(f)
    return out


def bay(terminals: tuple[tuple, ...] = ()) -> Bay:
    """The geometry, with quays for the given terminals ``(name, port, quay_length_m, lon, lat)``
    added where the GeoJSON has none (a north-south quay at the terminal's lon/lat, or beside the
    port's drawn terminals when it has none)."""
    return _bay(tuple(terminals))


@lru_cache(maxsize=32)
def _bay(terminals: tuple[tuple, ...]) -> Bay:
    b = Bay(features=load_geojson()["features"])
    for f in b.features:
        p, g = f["properties"], f["geometry"]
        port = p.get("port", HOME_PORT)
        if p.get("kind") == "quay":
            b.quays[p["terminal"]] = Polyline.from_coords(g["coordinates"])
            b.terminal_port[p["terminal"]] = port
        elif p.get("kind") == "channel":
            b.channels[port] = Polyline.from_coords(g["coordinates"])
        elif p.get("kind") == "anchorage":
            b.anchorages[port] = np.asarray(g["coordinates"][0][:4], float)
    for n, (name, port, length_m, lon, lat) in enumerate(terminals):
        b.terminal_port[name] = port or HOME_PORT
        if name in b.quays:
            continue
        if lon is None or lat is None:  # beside the channel's inner end, staggered
            ch = b.channel(port)
            lon, lat = float(ch.lon[-1]) + 0.004, float(ch.lat[-1]) - 0.004 * (n + 1)
        half = float(length_m) / 2000.0 / KM_PER_DEG_LAT
        b.quays[name] = Polyline.from_coords([[lon, lat - half], [lon, lat + half]])
    return b
