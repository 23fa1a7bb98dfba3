"""AIS readers: NMEA 0183 sentences and the MarineCadastre / Danish Maritime Authority CSV layouts.

The layout is recognised from the content (gzip allowed), never from the file name, and every
reader streams the file in chunks: a :class:`Chunk` holds positions, static reports (name, length,
draught, ship type) and the refused lines with their reasons, so memory stays flat however long
the file. NMEA is decoded with pyais; the CSV layouts are parsed with pyarrow.

Times are seconds since the UNIX epoch (UTC) as float64 throughout.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

# Reasons a message or position is refused (the quarantine's ``reason`` column).
BAD_CHECKSUM = "bad checksum"
MALFORMED = "truncated or malformed sentence"
UNPAIRED = "unpaired multi-part fragment"
UNSUPPORTED = "unsupported message type"
NOT_AVAILABLE = "position not available (lat 91 / lon 181)"
BAD_VALUE = "bad value"
NO_TIME = "timestamp missing or out of range"
OUT_OF_ORDER = "timestamp out of order"
OUTSIDE_AOI = "outside the area of interest"
SPEED_JUMP = "impossible speed jump"
DUPLICATE = "duplicate"
REASONS = (BAD_CHECKSUM, MALFORMED, UNPAIRED, UNSUPPORTED, NOT_AVAILABLE, BAD_VALUE, NO_TIME, OUT_OF_ORDER,
           OUTSIDE_AOI, SPEED_JUMP, DUPLICATE)

POSITION_TYPES = {1, 2, 3, 18, 19}
STATIC_TYPES = {5, 19, 24}
WANTED_PAYLOAD_START = {bytes([t + 48 if t < 40 else t + 56]) for t in POSITION_TYPES | STATIC_TYPES}
"""A payload's first 6-bit character is its message type: ``1 2 3 5 B C H`` are the types we use."""

MARINECADASTRE_HEADER = ("MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
                         "Length,Width,Draft,Cargo,TransceiverClass")
DMA_HEADER = ("# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,"
              "Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,"
              "Destination,ETA,Data source type,A,B,C,D")
EXPECTED = ("NMEA 0183 !AIVDM/!AIVDO sentences (optionally with tag blocks or a leading time column), "
            "or a CSV with the MarineCadastre header (MMSI,BaseDateTime,LAT,LON,SOG,COG,...) or the "
            "Danish Maritime Authority header (# Timestamp,Type of mobile,MMSI,Latitude,Longitude,...)")

NAV_STATUS_TEXT = {  # DMA's words → ITU-R M.1371 navigational status codes
    "under way using engine": 0, "at anchor": 1, "not under command": 2, "restricted manoeuverability": 3,
    "constrained by her draught": 4, "moored": 5, "aground": 6, "engaged in fishing": 7,
    "under way sailing": 8, "unknown value": 15,
}
SHIP_TYPE_TEXT = {"cargo": 70, "tanker": 80, "passenger": 60, "fishing": 30, "tug": 52, "pilot": 50,
                  "towing": 31, "sailing": 36, "pleasure": 37, "military": 35, "law enforcement": 55,
                  "sar": 51, "dredging": 33, "diving": 34, "hsc": 40, "port tender": 53}

POSITIONS_SCHEMA = {"mmsi": "int64", "t": "float64", "lat": "float64", "lon": "float64", "sog": "float64",
                    "cog": "float64", "status": "float64", "line": "int64"}
STATICS_SCHEMA = {"mmsi": "int64", "t": "float64", "name": "object", "loa_m": "float64", "draft_m": "float64",
                  "ship_type": "float64"}
REFUSED_SCHEMA = {"line": "int64", "reason": "object", "mmsi": "float64", "t": "float64", "lat": "float64",
                  "lon": "float64", "raw": "object"}


class AISFormatError(ValueError):
    """A file that is not AIS in a layout we read (the message names the file and what was expected)."""


_EMPTY: dict[tuple, pd.DataFrame] = {}


def empty(schema: dict[str, str]) -> pd.DataFrame:
    """A frame with the schema's columns and no rows (a copy of one built once: pandas is slow at it)."""
    key = tuple(schema.items())
    if key not in _EMPTY:
        _EMPTY[key] = pd.DataFrame({c: pd.Series(dtype=d) for c, d in schema.items()})
    return _EMPTY[key].copy()


class Chunk:
    """A slice of one file: its positions, static reports and refused lines (see the *_SCHEMA dicts).

    ``positions`` may be given as a DataFrame or as one numpy array per column; it is kept as
    arrays (:attr:`columns`, what the detector reads, no DataFrame built) and shown as a DataFrame
    on demand (:attr:`positions`)."""

    def __init__(self, messages: int, positions: pd.DataFrame | dict[str, np.ndarray],
                 statics: pd.DataFrame | None = None, refused: pd.DataFrame | None = None) -> None:
        self.messages = messages
        self.columns = {c: np.asarray(positions[c], dtype=d) for c, d in POSITIONS_SCHEMA.items()}
        self.statics = empty(STATICS_SCHEMA) if statics is None else statics
        self.refused = empty(REFUSED_SCHEMA) if refused is None else refused

    @property
    def positions(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns)

    def __len__(self) -> int:
        """Positions in the chunk."""
        return len(self.columns["t"])


# ------------------------------------------------------------------ layout detection
def open_binary(path: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed if it starts with the gzip magic number."""
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


NMEA_RE = re.compile(rb"![A-Z]{2}VD[MO],")


def sniff(path: str | Path) -> str:
    """``"nmea"``, ``"marinecadastre"`` or ``"dma"`` from the file's first lines.

    Raises :class:`AISFormatError` for a missing, empty, binary or unrecognised file."""
    path = Path(path)
    if not path.is_file():
        raise AISFormatError(f"{path}: no such file; expected {EXPECTED}")
    try:
        with open_binary(path) as f:
            head = f.read(65536)
    except (OSError, EOFError) as e:
        raise AISFormatError(f"{path}: cannot be read ({e}); expected {EXPECTED}") from None
    if not head.strip():
        raise AISFormatError(f"{path}: the file is empty; expected {EXPECTED}")
    text_bytes = sum(1 for b in head[:4096] if b in b"\t\r\n" or 32 <= b < 127)
    if b"\x00" in head[:4096] or text_bytes < 0.95 * min(len(head), 4096):
        raise AISFormatError(f"{path}: binary content, not text; expected {EXPECTED}")
    lines = [ln.strip() for ln in head.splitlines()[:50] if ln.strip()]
    if any(NMEA_RE.search(ln) for ln in lines[:50]):
        return "nmea"
    first = lines[0].decode("utf-8", "replace").lstrip("\ufeff")
    names = {c.strip().strip('"').strip().lower() for c in first.split(",")}
    if {"mmsi", "basedatetime", "lat", "lon"} <= names:
        return "marinecadastre"
    if {"# timestamp", "mmsi", "latitude", "longitude"} <= names:
        return "dma"
    raise AISFormatError(f"{path}: unknown layout (first line {first[:80]!r}); expected {EXPECTED}")


def read_ais(path: str | Path, chunk_rows: int = 250_000) -> Iterator[Chunk]:
    """Stream one AIS file (any supported layout, gzip allowed) as chunks of ~``chunk_rows`` lines."""
    path = Path(path)
    layout = sniff(path)
    if layout == "nmea":
        return read_nmea(path, chunk_rows)
    return read_csv(path, layout, chunk_rows)


# ------------------------------------------------------------------ NMEA
SENTENCE_START_RE = re.compile(rb"[!$][A-Z]{2}[A-Z]{3},")
TRAILING_TIME_RE = re.compile(rb"\*[0-9A-Fa-f]{2}()[,;\s]+(\d{9,13}(?:\.\d+)?)$")
TAG_TIME_RE = re.compile(rb"(?:^|[,\\])c:(\d+(?:\.\d+)?)")
LATEST_EPOCH_S = 9_000_000_000
"""Times further than this from 1970 (in seconds; 2255) are refused as out of range: they cannot be
timestamps (pandas' limit is 2262), and are a corrupt field or milliseconds read as seconds."""


def epoch_s(v: float) -> float:
    """Epoch seconds from a number in seconds or, above 1e11, milliseconds; NaN out of range."""
    s = v / 1000.0 if v > 1e11 else v
    return s if abs(s) <= LATEST_EPOCH_S else np.nan


def _prefix_time(prefix: bytes) -> float:
    """Seconds since the epoch from a leading time column (epoch seconds/milliseconds or ISO 8601)."""
    p = prefix.strip(b" \t,;").decode("ascii", "replace")
    if not p:
        return np.nan
    try:
        return epoch_s(float(p))
    except ValueError:
        pass
    try:
        ts = datetime.fromisoformat(p.replace("Z", "+00:00"))
    except ValueError:
        return np.nan
    return epoch_s((ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).timestamp())


def _starts_sentence(b: bytes) -> bool:
    """``SENTENCE_START_RE.match`` without the regex: ``!`` or ``$``, five capitals, a comma."""
    return b[6:7] == b"," and b[:1] in (b"!", b"$") and b[1:6].isalpha() and b[1:6].isupper()


def split_line(line: bytes) -> tuple[bytes, float]:
    """One text line → (the ``!..VDM`` sentence, its time in epoch seconds or NaN).

    Handles NMEA 4.10 tag blocks (``\\s:src,c:1671533231*08\\!AIVDM,...``) and a leading time column
    (``2024-01-01T00:00:00Z !AIVDM,...``, ``1704067200,!AIVDM,...``) or a trailing epoch column
    (``!AIVDM,...,0*36,1738369261``)."""
    head = line[:1]
    if head == b"\\":  # fast path: a tag block then a sentence ending at its checksum
        k = line.find(b"\\", 1)
        sentence = line[k + 1:].strip()
        if k > 0 and sentence[-3:-2] == b"*" and _starts_sentence(sentence):
            m = TAG_TIME_RE.search(line, 0, k + 1)
            if m is None:
                return sentence, np.nan
            return sentence, epoch_s(float(m.group(1)))
    elif head == b"!":  # fast path: a bare sentence
        sentence = line.strip()
        if sentence[-3:-2] == b"*" and _starts_sentence(sentence):
            return sentence, np.nan
    m = SENTENCE_START_RE.search(line)
    if m is None:
        return b"", np.nan
    start = m.start()
    sentence = line[start:].strip()
    prefix = line[:start]
    t = np.nan
    trailing = TRAILING_TIME_RE.search(sentence)
    if trailing:  # a time column after the checksum: "!AIVDM,...,0*36,1738369261"
        t = epoch_s(float(trailing.group(2)))
        sentence = sentence[: trailing.start(1)]
    if b"\\" in prefix:
        m = TAG_TIME_RE.search(prefix)
        if m:
            t = epoch_s(float(m.group(1)))
        prefix = prefix[: prefix.find(b"\\")]
    if t != t:  # NaN: try a leading time column
        t = _prefix_time(prefix)
    return sentence, t


class _NmeaChunk:
    """Rows filled line by line (tuples) or run by run (arrays), turned into DataFrames once per chunk."""

    def __init__(self) -> None:
        self.pos: list[tuple] = []  # rows in POSITIONS_SCHEMA order
        self.pos_at: list[int] = []  # the line being read when each row of ``pos`` was emitted
        self.runs: list[np.ndarray] = []  # position rows of runs of plain lines (POSITIONS_SCHEMA columns)
        self.n_runs = 0  # rows in ``runs``
        self.stat: list[tuple] = []  # rows in STATICS_SCHEMA order
        self.ref: dict[str, list] = {k: [] for k in REFUSED_SCHEMA}
        self.messages = 0

    def __len__(self) -> int:
        """Positions and refused lines so far (what a chunk's size counts)."""
        return len(self.pos) + self.n_runs + len(self.ref["t"])

    def refuse(self, line: int, reason: str, raw: bytes, t: float = np.nan, mmsi: float = np.nan,
               lat: float = np.nan, lon: float = np.nan) -> None:
        for k, v in zip(REFUSED_SCHEMA, (line, reason, mmsi, t, lat, lon, raw.decode("ascii", "replace"))):
            self.ref[k].append(v)

    def chunk(self) -> Chunk:
        if self.runs:  # rows in the order they were emitted: a run's row at its own line
            rows = np.concatenate([np.array(self.pos, np.float64).reshape(-1, len(POSITIONS_SCHEMA)), *self.runs])
            at = np.concatenate([np.array(self.pos_at, np.float64), *(r[:, -1] for r in self.runs)])
            rows = rows[np.argsort(at, kind="stable")]
            positions = {k: rows[:, i].astype(d) for i, (k, d) in enumerate(POSITIONS_SCHEMA.items())}
        else:
            positions = _frame(self.pos, POSITIONS_SCHEMA)
        return Chunk(self.messages, positions, _frame(self.stat, STATICS_SCHEMA),
                     pd.DataFrame(self.ref).astype(REFUSED_SCHEMA))


def _frame(rows: list[tuple], schema: dict[str, str]) -> pd.DataFrame:
    """Rows (tuples in the schema's column order) → a DataFrame with the schema's dtypes."""
    if not rows:
        return empty(schema)
    if all(d != "object" for d in schema.values()):  # all numbers: one conversion in C
        a = np.array(rows, dtype=np.float64)
        return pd.DataFrame({k: a[:, i].astype(d) for i, (k, d) in enumerate(schema.items())})
    cols = list(zip(*rows))
    return pd.DataFrame({k: np.array(v, dtype=d) for (k, d), v in zip(schema.items(), cols)})


def _num(v, missing: float | None = None) -> float:
    if v is None:
        return np.nan
    v = float(v)
    return np.nan if missing is not None and v == missing else v


def read_nmea(path: Path, chunk_rows: int = 250_000) -> Iterator[Chunk]:
    """Decode ``!AIVDM``/``!AIVDO`` sentences with pyais, assembling multi-part messages.

    The file is read in blocks of whole lines; the plain lines of a block (:data:`PLAIN_LINE`) are
    matched, decoded (each distinct sentence once) and added in bulk, every other line is read one
    by one, and the chunks are exactly those of reading every line one by one."""
    from pyais.exceptions import InvalidNMEAMessageException, UnknownMessageException
    from pyais.messages import NMEAMessage

    cur = _NmeaChunk()
    pending: dict[tuple, list] = {}  # (talker, channel, seq id) → [(line no, raw, t, NMEAMessage)]
    max_pending_lines = 100  # a fragment whose partners have not come within this many lines is unpaired

    parsed: dict[bytes, object] = {}  # sentence → NMEAMessage, or the reason it is refused
    cache: dict[bytes, tuple] = {}  # identical payloads (a moored ship, static reports) decode once
    singles: dict[bytes, tuple] = {}  # a single-part sentence seen before → its fields, no other work
    plain: dict[bytes, tuple] = {}  # ... and if it is a plain position: (mmsi, lat, lon, sog, cog, status)

    def fields(parts: list) -> tuple:
        """(refusal reason or None, mmsi, position fields or None, static fields or None)."""
        if parts[0][3].payload[:1] not in WANTED_PAYLOAD_START:  # types we do not use: not decoded at all
            return UNSUPPORTED, np.nan, None, None
        try:
            msg = (parts[0][3] if len(parts) == 1 else
                   NMEAMessage.assemble_from_iterable([p[3] for p in parts])).decode()
        except (InvalidNMEAMessageException, UnknownMessageException, ValueError, IndexError, TypeError) as e:
            return (UNSUPPORTED if isinstance(e, UnknownMessageException) else MALFORMED), np.nan, None, None
        kind = msg.msg_type
        if kind not in POSITION_TYPES and kind not in STATIC_TYPES:
            return UNSUPPORTED, float(msg.mmsi), None, None
        mmsi = int(msg.mmsi)
        static = position = None
        if kind in STATIC_TYPES:
            name = getattr(msg, "shipname", None)
            bow, stern = getattr(msg, "to_bow", None), getattr(msg, "to_stern", None)
            loa = float(bow + stern) if bow is not None and stern is not None and bow + stern > 0 else np.nan
            st = getattr(msg, "ship_type", None)
            static = ((name or "").strip() or None, loa, _num(getattr(msg, "draught", None), missing=0.0),
                      float(int(st)) if st is not None and int(st) > 0 else np.nan)
        if kind in POSITION_TYPES:
            if msg.lat is None or msg.lon is None:  # payload cut short
                return MALFORMED, float(mmsi), None, None
            status = getattr(msg, "status", None)
            position = (_num(msg.lat), _num(msg.lon), _num(msg.speed, missing=102.3),
                        _num(msg.course, missing=360.0), np.nan if status is None else float(int(status)))
        return None, mmsi, position, static

    def remember(parts: list) -> tuple:
        """(refusal reason or None, mmsi, position, static) of a message, decoded once (cached)."""
        raw = parts[0][1]
        raws = b"\n".join(p[1] for p in parts) if len(parts) > 1 else raw
        key = raws.rsplit(b"*", 1)[0]
        got = cache.get(key)
        if got is None:
            got = fields(parts)
            if len(cache) > 200_000:
                cache.clear()
            cache[key] = got
        if len(parts) == 1:
            if len(singles) > 200_000:
                singles.clear()
                plain.clear()
            singles[raw] = got
            reason, mmsi, position, static = got
            if reason is None and static is None and position is not None and (
                    abs(position[0]) <= 90 and abs(position[1]) <= 180):
                plain[raw] = (mmsi, *position)
        return got

    def decode(parts: list, at: int) -> None:
        """Decode a message (its fragments) and emit it, ``at`` the line being read."""
        line, raw, t, _ = parts[0]
        if t != t:
            t = next((p[2] for p in parts if p[2] == p[2]), np.nan)
        raws = b"\n".join(p[1] for p in parts) if len(parts) > 1 else raw
        emit(remember(parts), line, raws, t, at)

    def emit(got: tuple, line: int, raws: bytes, t: float, at: int) -> None:
        reason, mmsi, position, static = got
        if reason is not None:
            cur.refuse(line, reason, raws, t, mmsi)
            return
        if static is not None:
            cur.stat.append((mmsi, t, *static))
        if position is not None:
            lat, lon = position[0], position[1]
            if t != t:
                cur.refuse(line, NO_TIME, raws, t, mmsi, lat, lon)
            elif not (abs(lat) <= 90 and abs(lon) <= 180):
                cur.refuse(line, NOT_AVAILABLE, raws, t, mmsi, lat, lon)
            else:
                cur.pos.append((mmsi, t, *position, line))
                cur.pos_at.append(at)

    def flush_stale(line_no: int) -> None:
        for key in [k for k, parts in pending.items() if line_no - parts[0][0] > max_pending_lines]:
            for p in pending.pop(key):
                cur.refuse(p[0], UNPAIRED, p[1], p[2])

    def parse(sentence: bytes) -> NMEAMessage | str:
        """The sentence parsed by pyais (remembered for repeats), or why it is refused."""
        msg = parsed.get(sentence)
        if msg is None:
            try:
                msg = NMEAMessage(sentence)
                if not msg.is_valid:
                    msg = BAD_CHECKSUM
            except (InvalidNMEAMessageException, ValueError, IndexError, TypeError):
                msg = MALFORMED
            if len(parsed) > 200_000:
                parsed.clear()
            parsed[sentence] = msg
        return msg

    def ensure(sentence: bytes) -> tuple | None:
        """The position row of a single-part sentence if it is a plain, located position report
        (decoded with pyais once, then remembered), else None (the line takes the slow path)."""
        row = plain.get(sentence)
        if row is None and sentence not in singles:
            msg = parse(sentence)
            if not isinstance(msg, str) and msg.frag_cnt == 1:
                remember([(0, sentence, np.nan, msg)])
                row = plain.get(sentence)
        return row

    def read_line(line_no: int, line: bytes) -> bool:
        """One line the slow way; True when the chunk's size is to be checked after it."""
        sentence, t = split_line(line)
        row = plain.get(sentence)
        if row is not None and t == t:  # the most common line: a known position report, timed
            cur.messages += 1
            cur.pos.append((row[0], t, row[1], row[2], row[3], row[4], row[5], line_no))
            cur.pos_at.append(line_no)
            if line_no % 1000 == 0:
                flush_stale(line_no)
            return True
        got = singles.get(sentence)
        if got is not None:  # the same single-part sentence again: its fields are known
            cur.messages += 1
            emit(got, line_no, sentence, t, line_no)
            if line_no % 1000 == 0:
                flush_stale(line_no)
            return True
        if not sentence:
            if line.strip() and not line.lstrip().startswith(b"#"):
                cur.refuse(line_no, MALFORMED, line.strip(), t)
            return False
        if not NMEA_RE.match(sentence):  # other NMEA sentences ($GPRMC, $ARVSI...) are not AIS
            cur.refuse(line_no, UNSUPPORTED, sentence, t)
            return False
        cur.messages += 1
        msg = parse(sentence)
        if isinstance(msg, str):
            cur.refuse(line_no, msg, sentence, t)
            return False
        if msg.frag_cnt == 1:
            decode([(line_no, sentence, t, msg)], line_no)
        else:
            key = (msg.talker, msg.channel, msg.seq_id, msg.frag_cnt)
            parts = pending.get(key)
            if msg.frag_num == 1:
                if parts:  # a new message starts before the last one was complete
                    for p in pending.pop(key):
                        cur.refuse(p[0], UNPAIRED, p[1], p[2])
                pending[key] = [(line_no, sentence, t, msg)]
            elif parts and parts[-1][3].frag_num == msg.frag_num - 1:
                parts.append((line_no, sentence, t, msg))
                if msg.frag_num == msg.frag_cnt:
                    decode(pending.pop(key), line_no)
            else:
                if parts:
                    for p in pending.pop(key):
                        cur.refuse(p[0], UNPAIRED, p[1], p[2])
                cur.refuse(line_no, UNPAIRED, sentence, t)
        if line_no % 1000 == 0:
            flush_stale(line_no)
        return True

    line_no = 0  # lines read before this block
    with open_binary(path) as f:
        for data, ends in _line_blocks(f):
            n = ends.size
            starts = np.empty(n, np.int64)
            starts[0], starts[1:] = 0, ends[:-1] + 1
            numbers = line_no + 1 + np.arange(n)
            rows, fast = _plain_lines(data, starts, ends, numbers, ensure)
            # lines the slow way: all but the plain ones, and every thousandth (the check for stale fragments)
            events = np.flatnonzero(~fast | (numbers % 1000 == 0))
            prev = 0
            for e in [*events.tolist(), n]:
                run = np.flatnonzero(fast[prev:e]) + prev if e > prev else ()
                i = 0
                while i < len(run):  # a run of plain lines: their rows in bulk, cut where a chunk is full
                    take = min(len(run) - i, max(chunk_rows - len(cur), 1))
                    cur.runs.append(rows[run[i:i + take]])
                    cur.n_runs += take
                    cur.messages += take
                    i += take
                    if len(cur) >= chunk_rows:
                        yield cur.chunk()
                        cur = _NmeaChunk()
                if e < n:
                    if read_line(int(numbers[e]), data[starts[e]:ends[e] + 1]) and len(cur) >= chunk_rows:
                        yield cur.chunk()
                        cur = _NmeaChunk()
                    prev = e + 1
            line_no += n
        for parts in pending.values():
            for p in parts:
                cur.refuse(p[0], UNPAIRED, p[1], p[2])
    yield cur.chunk()


PLAIN_LINE = (r"^\\(?:[abd-z]:[^,\\*]*,)*c:(?P<c>[0-9]{9}|[1-8][0-9]{9})(?:,[a-z]:[^,\\*]*)*\*[0-9A-Fa-f]{2}\\"
              r"(?P<s>!AIVD[MO],1,1,[0-9]?,[ABab12]?,[123B][0-9:;<=>?@A-W`a-w]{27},0\*[0-9A-Fa-f]{2})\r?\n?$")
"""The common line, matched in bulk (RE2, in C): a tag block with a ``c:`` epoch time, then a
single-part position report (types 1, 2, 3, 18) of standard length. Every other line is read the
slow way, and so is this one unless pyais decodes it to a plain located position."""

LINE_BLOCK_BYTES = 1 << 20


def _line_blocks(f) -> Iterator[tuple[bytes, np.ndarray]]:
    """The file in blocks of whole lines: (bytes, index of each line's end: its ``\\n`` or the end)."""
    rest = b""
    while True:
        buf = f.read(LINE_BLOCK_BYTES)
        data = rest + buf
        if not buf:
            if data:
                yield data, np.array([len(data) - 1 if data.endswith(b"\n") else len(data)], np.int64)
            return
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        rest = data[cut + 1:]
        data = data[:cut + 1]
        yield data, np.flatnonzero(np.frombuffer(data, np.uint8) == 10)


def _plain_lines(data: bytes, starts: np.ndarray, ends: np.ndarray, numbers: np.ndarray,
                 ensure) -> tuple[np.ndarray, np.ndarray]:
    """Position rows (POSITIONS_SCHEMA columns, float64) of a block's lines and which lines are
    plain (see :data:`PLAIN_LINE`): matched and split by pyarrow, each distinct sentence decoded
    once by ``ensure`` (pyais; None if not a plain located position)."""
    n = ends.size
    offsets = np.append(starts, min(int(ends[-1]) + 1, len(data))).astype(np.int64)
    lines = pa.LargeBinaryArray.from_buffers(pa.large_binary(), n,
                                             [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    m = pc.extract_regex(lines, PLAIN_LINE)
    fast = m.is_valid().to_numpy(zero_copy_only=False)
    rows = np.empty((n, len(POSITIONS_SCHEMA)), np.float64)
    if not fast.any():
        return rows, fast
    idx = np.flatnonzero(fast)
    matched = pa.array(fast)
    times = pc.cast(m.field("c").filter(matched), pa.float64()).to_numpy()
    sentences = pc.dictionary_encode(m.field("s").filter(matched))
    found = [ensure(s) for s in sentences.dictionary.to_pylist()]
    known = np.array([r is not None for r in found])
    table = np.array([r if r is not None else (0,) * 6 for r in found], np.float64).reshape(-1, 6)
    which = sentences.indices.to_numpy(zero_copy_only=False)
    fast[idx] = known[which]
    rows[idx, 0] = table[which, 0]
    rows[idx, 1] = times
    rows[idx, 2:7] = table[which, 1:6]
    rows[:, 7] = numbers
    return rows, fast


# ------------------------------------------------------------------ CSV
@dataclass(frozen=True)
class CsvLayout:
    name: str
    columns: dict[str, str]  # our name → the file's column name
    time_format: str | None  # strptime format, None for ISO 8601


LAYOUTS = {
    "marinecadastre": CsvLayout("MarineCadastre", {
        "mmsi": "MMSI", "t": "BaseDateTime", "lat": "LAT", "lon": "LON", "sog": "SOG", "cog": "COG",
        "status": "Status", "name": "VesselName", "loa_m": "Length", "draft_m": "Draft", "ship_type": "VesselType",
    }, None),
    "dma": CsvLayout("Danish Maritime Authority", {
        "mmsi": "MMSI", "t": "# Timestamp", "lat": "Latitude", "lon": "Longitude", "sog": "SOG", "cog": "COG",
        "status": "Navigational status", "name": "Name", "loa_m": "Length", "draft_m": "Draught",
        "ship_type": "Ship type", "mobile": "Type of mobile",
    }, "%d/%m/%Y %H:%M:%S"),
}
NUMERIC = ("mmsi", "lat", "lon", "sog", "cog", "loa_m", "draft_m")


def csv_header(path: Path, spec: CsvLayout) -> tuple[list[str], dict[str, str], bool]:
    """The file's column names, our name → its column, and whether it is gzip-compressed."""
    with open_binary(path) as f:
        header_line = f.readline()
        gz = isinstance(f, gzip.GzipFile)
    header = [c.strip().strip('"').strip()
              for c in header_line.decode("utf-8", "replace").lstrip("\ufeff").strip().split(",")]
    lookup = {c.lower(): c for c in header}
    cols = {ours: lookup[theirs.lower()] for ours, theirs in spec.columns.items() if theirs.lower() in lookup}
    return header, cols, gz


CSV_BLOCK_BYTES = 1 << 20
"""Bytes pyarrow parses at a time: a block that fits in the CPU's cache parses about twice as fast
as one of tens of megabytes; the blocks are gathered into chunks of ``chunk_rows`` rows."""


def csv_convert_options(layout: str, cols: dict[str, str]) -> tuple[dict, dict, pacsv.ConvertOptions]:
    """(number columns' types, text columns' types, pyarrow's options) to read the columns we use
    (``cols``: our name → the file's column) typed, times parsed by arrow."""
    spec = LAYOUTS[layout]
    str_types = {cols[c]: pa.string() for c in ("name", "status", "ship_type", "mobile") if c in cols}
    num_types = {cols[c]: pa.float64() for c in NUMERIC if c in cols}
    num_types[cols["mmsi"]] = pa.int64()
    if layout == "marinecadastre":
        num_types.update({cols[c]: pa.float64() for c in ("status", "ship_type") if c in cols})
        str_types = {k: v for k, v in str_types.items() if k not in num_types}
    typed = pacsv.ConvertOptions(
        include_columns=list(cols.values()), column_types={**num_types, **str_types, cols["t"]: pa.timestamp("s")},
        timestamp_parsers=[spec.time_format] if spec.time_format else None,
        strings_can_be_null=True, quoted_strings_can_be_null=True)
    return num_types, str_types, typed


def read_csv(path: Path, layout: str, chunk_rows: int = 250_000) -> Iterator[Chunk]:
    """Stream a MarineCadastre or DMA CSV, ``chunk_rows`` good rows a chunk (the last one fewer).

    pyarrow's streaming CSV reader (decompression, parsing and time parsing in C) reads only the
    columns we use, with explicit types, in cache-sized blocks (:data:`CSV_BLOCK_BYTES`). If a value
    does not convert (a word in a number column), the rest of the file is read again as text from
    the first row not yet delivered, and each bad row is refused with its column and value named.
    Line numbers are those of the file's non-empty lines."""
    spec = LAYOUTS[layout]
    header, cols, gz = csv_header(path, spec)
    num_types, str_types, typed = csv_convert_options(layout, cols)
    as_text = pacsv.ConvertOptions(include_columns=list(cols.values()),
                                   column_types={c: pa.string() for c in cols.values()}, strings_can_be_null=True)
    chunk_rows = max(int(chunk_rows), 1)
    consumed = 0  # data rows (non-empty lines after the header) already yielded
    convert = typed
    while True:
        bad_rows: list[tuple[int, str]] = []  # (row number in the file, text) of rows with a wrong field count

        def on_invalid(row, bad_rows=bad_rows) -> str:
            bad_rows.append((row.number, row.text))
            return "skip"

        def emit(batches: list[pa.RecordBatch], lines: list[np.ndarray], j: int, last: bool = False):
            """A chunk of the gathered batches and the bad rows up to their last line; the next bad row."""
            line = np.concatenate(lines) if lines else np.empty(0, np.int64)
            k = j
            while k < len(bad_rows) and (last or (line.size and bad_rows[k][0] <= line[-1])):
                k += 1
            table = pa.Table.from_batches(batches) if batches else None
            return _chunk(table, line, bad_rows[j:k], cols, spec, layout, num_types, str_types,
                          typed=convert is typed), k, (int(line[-1]) - 1 if line.size else None)

        stream = pa.input_stream(str(path), compression="gzip" if gz else None)
        try:
            reader = pacsv.open_csv(
                stream, read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, skip_rows_after_names=consumed,
                                                       use_threads=False, block_size=CSV_BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid), convert_options=convert)
            start, j, jb = consumed + 2, 0, 0  # next row's number in the file (the header is row 1); bad rows
            held: list[pa.RecordBatch] = []  # parsed rows not yet yielded, with their line numbers
            held_lines: list[np.ndarray] = []
            n_held = 0
            for batch in reader:
                # the rows of this batch: its good rows plus the bad ones among them
                end, j0 = start + batch.num_rows, j
                while j < len(bad_rows) and bad_rows[j][0] < end:
                    end, j = end + 1, j + 1
                line = np.arange(start, end, dtype=np.int64)
                if j > j0:
                    line = np.delete(line, np.array([r[0] for r in bad_rows[j0:j]], np.int64) - start)
                start = end
                held.append(batch)
                held_lines.append(line)
                n_held += batch.num_rows
                while n_held >= chunk_rows:  # a full chunk: the first chunk_rows held rows
                    take, take_lines, rest, rest_lines, need = [], [], [], [], chunk_rows
                    for b, ln in zip(held, held_lines):
                        if need >= b.num_rows:
                            take.append(b), take_lines.append(ln)
                        elif need > 0:
                            take.append(b.slice(0, need)), take_lines.append(ln[:need])
                            rest.append(b.slice(need)), rest_lines.append(ln[need:])
                        else:
                            rest.append(b), rest_lines.append(ln)
                        need -= b.num_rows
                    chunk, jb, done = emit(take, take_lines, jb)
                    yield chunk
                    consumed = done
                    held, held_lines, n_held = rest, rest_lines, n_held - chunk_rows
            if held or jb < len(bad_rows):  # the last rows, and bad rows after the last good one
                chunk, jb, _ = emit(held, held_lines, jb, last=True)
                yield chunk
        except pa.ArrowInvalid:
            if convert is not typed:
                raise
            convert = as_text  # a value that does not convert: the rest as text, bad rows refused one by one
            continue
        finally:
            stream.close()
        return


def _chunk(table: pa.Table | None, line: np.ndarray, bad_rows: list[tuple[int, str]], cols: dict[str, str],
           spec: CsvLayout, layout: str, num_types: dict, str_types: dict, typed: bool = True) -> Chunk:
    """One batch of CSV rows → a Chunk (positions, first static row of each ship, refused rows)."""
    refused: list[pd.DataFrame] = []
    if bad_rows:
        refused.append(pd.DataFrame({"line": [r[0] for r in bad_rows], "reason": MALFORMED,
                                     "raw": [r[1] for r in bad_rows]}))
    if table is None:
        return Chunk(len(bad_rows), empty(POSITIONS_SCHEMA), empty(STATICS_SCHEMA), _stack_refused(refused))
    messages = table.num_rows + len(bad_rows)
    if not typed:
        table, line, bad = _coerce(table, cols, spec, num_types, str_types, line)
        refused.append(bad)
    n = table.num_rows
    d = {c: table.column(cols[c]) for c in cols}
    mmsi_valid = np.ones(n, bool) if d["mmsi"].null_count == 0 else pc.is_valid(d["mmsi"]).to_numpy(zero_copy_only=False)
    mmsi = pc.fill_null(d["mmsi"], 0).to_numpy() if not mmsi_valid.all() else d["mmsi"].to_numpy()
    tcol = d["t"]
    t = tcol.to_numpy(zero_copy_only=False).view(np.int64).astype(np.float64)  # datetime64[s] → seconds
    if tcol.null_count:
        t[~pc.is_valid(tcol).to_numpy(zero_copy_only=False)] = np.nan
    t_valid = np.abs(t) <= LATEST_EPOCH_S  # False for a missing time too
    lat = d["lat"].to_numpy(zero_copy_only=False).astype(float, copy=False)
    lon = d["lon"].to_numpy(zero_copy_only=False).astype(float, copy=False)

    def num(c: str) -> np.ndarray:
        if c not in d:
            return np.full(n, np.nan)
        return d[c].to_numpy(zero_copy_only=False).astype(float, copy=False)

    sog, cog = num("sog"), num("cog")
    if layout == "dma" and "status" in d:
        status = _map_text(d["status"], NAV_STATUS_TEXT)
    else:
        status = num("status")
    located = (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    keep = located & t_valid & mmsi_valid if not t_valid.all() or d["mmsi"].null_count else located.copy()
    other = None
    if layout == "dma" and "mobile" in d:
        words, idx = _words(d["mobile"])
        other = ~np.isin(np.array(words, object), ["class a", "class b"])[idx] if words else np.zeros(n, bool)
        keep &= ~other
    if not keep.all():
        reason = np.full(n, None, object)
        reason[~t_valid] = NO_TIME
        reason[~located] = NOT_AVAILABLE
        if other is not None:
            reason[other] = UNSUPPORTED
        reason[~mmsi_valid] = f"{BAD_VALUE}: {cols['mmsi']}=''"
        bad = ~keep
        refused.append(pd.DataFrame({"line": line[bad], "reason": reason[bad], "mmsi": np.where(mmsi_valid, mmsi, np.nan)[bad],
                                     "t": t[bad], "lat": lat[bad], "lon": lon[bad]}))
        mmsi, t, lat, lon, sog, cog, status, line = (a[keep] for a in (mmsi, t, lat, lon, sog, cog, status, line))
    positions = {"mmsi": mmsi.astype(np.int64, copy=False), "t": t, "lat": lat, "lon": lon,
                 "sog": np.where(sog >= 102.2, np.nan, sog), "cog": np.where(cog >= 360, np.nan, cog),
                 "status": status, "line": line}
    statics = _statics(d, mmsi, t, keep, layout)
    return Chunk(messages, positions, statics, _stack_refused(refused))


def _stack_refused(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Refused rows from several frames (each with some of the REFUSED_SCHEMA columns) as one
    frame with all of them, column by column (pandas' concat and casts cost more than the rows)."""
    parts = [part for part in parts if len(part)]
    if not parts:
        return empty(REFUSED_SCHEMA)
    out = {}
    for col, dtype in REFUSED_SCHEMA.items():
        if dtype == "object":
            values = np.concatenate([part[col].to_numpy(object) if col in part else np.full(len(part), None, object)
                                     for part in parts])
            out[col] = pd.Series(values, dtype=object)
        else:
            out[col] = np.concatenate([part[col].to_numpy(dtype) if col in part else np.full(len(part), np.nan)
                                       for part in parts]).astype(dtype)
    return pd.DataFrame(out)


def _statics(d: dict, mmsi: np.ndarray, t: np.ndarray, keep: np.ndarray, layout: str) -> pd.DataFrame:
    """The first row of every ship in the batch with its name, length, draught and ship type
    (``mmsi`` and ``t`` are of the kept rows, ``keep`` marks them among the batch's rows): one
    row a ship, whatever the number of its positions."""
    if mmsi.size == 0:
        return empty(STATICS_SCHEMA)
    codes, _ = pd.factorize(mmsi)  # numbered in order of first appearance
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
    first = first[np.argsort(mmsi[first], kind="stable")]  # by ship
    rows = np.flatnonzero(keep)[first] if not keep.all() else first
    take = pa.array(rows)
    out = {"mmsi": mmsi[first].astype(np.int64), "t": t[first].astype(float)}
    if "name" in d:
        names = [None if v is None else v.strip() or None for v in d["name"].take(take).to_pylist()]
        out["name"] = pd.Series(names, dtype=object)
    else:
        out["name"] = pd.Series([None] * rows.size, dtype=object)
    for c in ("loa_m", "draft_m"):
        v = d[c].take(take).to_numpy(zero_copy_only=False).astype(float) if c in d else np.full(rows.size, np.nan)
        out[c] = np.where(v > 0, v, np.nan)
    if "ship_type" in d:
        st = d["ship_type"].take(take)
        if pa.types.is_string(st.type) or pa.types.is_dictionary(st.type):
            st = _map_text(st, SHIP_TYPE_TEXT, other=90.0)
        else:
            st = st.to_numpy(zero_copy_only=False).astype(float)
        out["ship_type"] = np.where(st > 0, st, np.nan)
    else:
        out["ship_type"] = np.full(rows.size, np.nan)
    return pd.DataFrame(out)


def _words(col: pa.ChunkedArray | pa.Array) -> tuple[list[str], np.ndarray]:
    """A text column as its distinct words (trimmed, lower case; a missing value is ``""``) and each
    row's index into them: the words are worked on once each, not once a row."""
    words: dict[str, int] = {}
    rows = []
    if isinstance(col, pa.ChunkedArray) and col.num_chunks > 1 and not pa.types.is_dictionary(col.type):
        col = col.combine_chunks()  # one pass over the whole chunk, not one per parsed block
    for part in (col.chunks if isinstance(col, pa.ChunkedArray) else [col]):
        if not pa.types.is_dictionary(part.type):
            part = pc.dictionary_encode(part)
        here = pc.utf8_lower(pc.utf8_trim_whitespace(part.dictionary.cast(pa.string()))).to_pylist()
        remap = np.array([words.setdefault(w or "", len(words)) for w in here] + [words.setdefault("", len(words))],
                         np.int64)  # the last entry: a missing value
        rows.append(remap[pc.fill_null(part.indices, len(here)).to_numpy(zero_copy_only=False).astype(np.int64)])
    return list(words), (np.concatenate(rows) if rows else np.empty(0, np.int64))


def _map_text(col: pa.ChunkedArray, mapping: dict[str, int], other: float = np.nan) -> np.ndarray:
    """Words → codes (case-insensitive); unknown words → ``other``, empty or "undefined" → NaN."""
    words, idx = _words(col)
    lut = np.array([np.nan if w in ("", "undefined") else float(mapping.get(w, other)) for w in words], float)
    return lut[idx] if len(words) else np.full(len(idx), np.nan)


def _coerce(table: pa.Table, cols: dict[str, str], spec: CsvLayout, num_types: dict, str_types: dict,
            line: np.ndarray) -> tuple[pa.Table, np.ndarray, pd.DataFrame]:
    """Slow path for a block with bad values: convert column by column and refuse the bad rows."""
    df = table.to_pandas()
    n = len(df)
    bad = np.zeros(n, bool)
    why = np.full(n, None, object)
    arrays = {}
    for col, typ in num_types.items():
        raw = df[col]
        v = pd.to_numeric(raw, errors="coerce")
        wrong = raw.notna() & v.isna()
        if col == cols["mmsi"]:
            wrong |= raw.isna()
        new = wrong.to_numpy() & ~bad
        why[new] = [f"{BAD_VALUE}: {col}={x!r}" for x in raw[new]]
        bad |= wrong.to_numpy()
        arrays[col] = v
    tcol = df[cols["t"]]
    t = pd.to_datetime(tcol, format=spec.time_format, errors="coerce", utc=True)
    wrong = (tcol.notna() & t.isna()).to_numpy()
    new = wrong & ~bad
    why[new] = [f"{BAD_VALUE}: {cols['t']}={x!r}" for x in tcol[new]]
    bad |= wrong
    raw = df[bad].astype(str).agg(",".join, axis=1).to_numpy(object) if bad.any() else np.empty(0, object)
    refused = pd.DataFrame({"line": line[bad], "reason": why[bad], "raw": raw})
    ok = ~bad
    fields = {}
    for col, typ in num_types.items():
        v = arrays[col][ok]
        fields[col] = pa.array(v.to_numpy(np.int64) if typ == pa.int64() else v.to_numpy(float), type=typ)
    fields[cols["t"]] = pa.array(t[ok].dt.tz_localize(None).astype("datetime64[s]"), type=pa.timestamp("s"))
    for col in str_types:
        fields[col] = pa.array(df[col][ok].to_numpy(object), type=pa.string(), from_pandas=True)  # NaN: missing
    return pa.table(fields), line[ok], refused
