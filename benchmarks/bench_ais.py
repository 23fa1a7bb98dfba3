"""AIS call-detection speed: ``python benchmarks/bench_ais.py [--days 30] [--fleet 12] [--interval-min 1]``.

Bay traffic for ``--days`` days: ``--fleet`` independent vessels-only runs of the bundled Callao
scenario (seeds 1..fleet, MMSI kept apart), standing in for all the ships in the bay, exported
at one position every ``--interval-min`` minutes as MarineCadastre CSV (``csv``), as Danish Maritime
Authority CSV (``dma``: the same rows in that layout, one row in a thousand a base station, which
the reader refuses) and as NMEA (``--formats``).
A one-week slice of the same traffic is written too, to show that memory does not grow with the
file's length.

Each measurement runs in a fresh subprocess pinned to one core (pyarrow and BLAS threads at one):

* ``callao calls detect`` on each file: positions per second of CPU time (the process is pinned
  to one core and single-threaded, so CPU time is its one-core time even on a loaded machine;
  wall time is printed too) and peak RSS (``ru_maxrss``);
* baseline in the same conditions: for CSV, pyarrow's plain ``read_csv`` of the same file (every
  column, types guessed) and the reader's own typed parse alone (the columns it uses, with its
  types and block size: the floor for this reader); for NMEA, pyais alone decoding every sentence
  (``NMEAMessage(...).decode()``, multi-part assembled), so the share of the detection time that
  pyais would need;
* for NMEA, the share of the detection's own CPU time spent inside pyais (its ``NMEAMessage``
  parsing, assembling and decoding, timed by wrappers in a separate run).

The files are kept in ``--work`` (default a temporary folder) and reused when present.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

TARGET_CSV_POS_S = 1_000_000


def _pin() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)


def _rss_mb() -> float:
    """This process's peak resident memory (MB): ``VmHWM`` where Linux has it, since ``ru_maxrss``
    keeps the parent's peak across ``exec`` (the files are generated in the parent)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")) / 1024.0
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------ measurements (child process)
def child(mode: str, path: str, out: str, chunk_rows: int = 250_000) -> dict:
    _pin()
    if mode in ("detect", "pyais-share"):
        import callao.results  # noqa: F401  (imports outside the timing)
        from callao.ingest.detect import detect_calls
        from callao.ingest.geofences import Geofences

        geo = Geofences.load()
        geo.zone_of([0.0], [0.0])  # the zone grids are built once per geofence set
        spent = [0.0]
        if mode == "pyais-share":  # CPU time inside pyais's parsing, assembling and decoding, during detection
            from pyais.messages import NMEAMessage

            def timed(fn):
                def inner(*a, **k):
                    c0 = time.process_time()
                    try:
                        return fn(*a, **k)
                    finally:
                        spent[0] += time.process_time() - c0
                return inner

            NMEAMessage.__init__ = timed(NMEAMessage.__init__)
            NMEAMessage.decode = timed(NMEAMessage.decode)
            NMEAMessage.assemble_from_iterable = classmethod(timed(NMEAMessage.assemble_from_iterable.__func__))
        t, c = time.perf_counter(), time.process_time()
        calls, s = detect_calls([path], out, geo, chunk_rows=chunk_rows)
        return {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "messages": s.messages,
                "positions": s.positions_kept, "calls": len(calls), "refused": s.refused_total, "rss_mb": _rss_mb(),
                "pyais_cpu": spent[0]}
    if mode == "arrow":
        import pyarrow.csv as pacsv

        t, c = time.perf_counter(), time.process_time()
        n = pacsv.read_csv(path, read_options=pacsv.ReadOptions(use_threads=False)).num_rows
        return {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "messages": n, "rss_mb": _rss_mb()}
    if mode == "arrow-typed":  # the reader's own parse alone: same columns, types and block size, nothing after
        import pyarrow.csv as pacsv

        from callao.ingest.readers import CSV_BLOCK_BYTES, LAYOUTS, csv_convert_options, csv_header, sniff

        layout = sniff(path)
        header, cols, _ = csv_header(Path(path), LAYOUTS[layout])
        options = csv_convert_options(layout, cols)[2]
        t, c = time.perf_counter(), time.process_time()
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, use_threads=False,
                                                                     block_size=CSV_BLOCK_BYTES), convert_options=options)
        n = sum(batch.num_rows for batch in reader)
        return {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "messages": n, "rss_mb": _rss_mb()}
    if mode == "pyais":
        from pyais.messages import NMEAMessage

        from callao.ingest.readers import open_binary, split_line

        t, c = time.perf_counter(), time.process_time()
        n, parts = 0, []
        with open_binary(Path(path)) as f:
            for line in f:
                sentence, _ = split_line(line)
                msg = NMEAMessage(sentence)
                n += 1
                if msg.frag_cnt == 1:
                    msg.decode()
                else:
                    parts.append(msg)
                    if msg.frag_num == msg.frag_cnt:
                        NMEAMessage.assemble_from_iterable(parts).decode()
                        parts = []
        return {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "messages": n, "rss_mb": _rss_mb()}
    raise ValueError(mode)


def measure(mode: str, path: Path, out: Path, chunk_rows: int = 250_000) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", mode, str(path), str(out), str(chunk_rows)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ data (parent)
def make_traffic(days: float, fleet: int, interval_s: float):
    import numpy as np
    import pandas as pd

    from callao.ingest.export import tracks
    from callao.scenario import load_scenario
    from callao.sim import simulate

    sc = load_scenario("callao")
    sc = sc.model_copy(update={"simulation": sc.simulation.model_copy(update={"containers": False})})
    pos, st = [], []
    for seed in range(1, fleet + 1):
        v = simulate(sc, seed=seed, years=days / 365).vessels
        v = v.assign(vessel_id=v["vessel_id"].to_numpy(np.int64) + 100_000 * seed)
        p, s = tracks(v, sc.simulation.start_utc, interval_s=interval_s, seed=seed)
        pos.append(p)
        st.append(s)
    pos = pd.concat(pos, ignore_index=True).sort_values(["t", "mmsi"], kind="stable", ignore_index=True)
    return pos, pd.concat(st, ignore_index=True), sc.simulation.start_utc.timestamp()


SUFFIX = {"csv": ".csv", "dma": "-dma.csv", "nmea": ".nmea"}


def write_dma(positions, statics, path: Path) -> None:
    """The MarineCadastre rows in the Danish Maritime Authority layout (times day first, words for
    the navigational status and ship type); one row in a thousand is a base station's."""
    import numpy as np
    import pandas as pd

    from callao.ingest.export import write_marinecadastre
    from callao.ingest.readers import DMA_HEADER

    tmp = path.with_suffix(".mc.tmp")
    write_marinecadastre(positions, statics, tmp)
    mc = pd.read_csv(tmp)
    tmp.unlink()
    words = {0: "Under way using engine", 1: "At anchor", 5: "Moored"}
    dma = pd.DataFrame({c: "" for c in DMA_HEADER.split(",")}, index=mc.index)
    dma["# Timestamp"] = pd.to_datetime(mc["BaseDateTime"]).dt.strftime("%d/%m/%Y %H:%M:%S")
    dma["Type of mobile"] = np.where(np.arange(len(mc)) % 1000 == 999, "Base Station", "Class A")
    for theirs, ours in (("MMSI", "MMSI"), ("Latitude", "LAT"), ("Longitude", "LON"), ("SOG", "SOG"), ("COG", "COG"),
                         ("Heading", "Heading"), ("Name", "VesselName"), ("Width", "Width"), ("Length", "Length"),
                         ("Draught", "Draft")):
        dma[theirs] = mc[ours]
    dma["Navigational status"] = mc["Status"].map(words).fillna("Unknown value")
    dma["Ship type"] = np.where(mc["VesselType"].between(70, 79), "Cargo", "Undefined")
    dma.to_csv(path, index=False)


def write_files(work: Path, args) -> dict[tuple[str, str], Path]:
    from callao.ingest.export import write_marinecadastre, write_nmea

    files = {}
    pos = st = t0 = None
    for span, days in (("1 week", 7.0), (f"{args.days:g} days", args.days)):
        for fmt in args.formats:
            f = work / f"bay-{days:g}d-{args.fleet}x-{args.interval_min:g}min{SUFFIX[fmt]}"
            files[(fmt, span)] = f
            if f.exists():
                continue
            if pos is None:
                t = time.perf_counter()
                pos, st, t0 = make_traffic(args.days, args.fleet, args.interval_min * 60)
                print(f"simulated and tracked {len(pos):,} positions in {time.perf_counter() - t:.0f} s", flush=True)
            part = pos[pos["t"] < t0 + days * 86400]
            t = time.perf_counter()
            {"csv": write_marinecadastre, "dma": write_dma, "nmea": write_nmea}[fmt](part, st, f)
            print(f"wrote {f.name} ({f.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.0f} s", flush=True)
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--fleet", type=int, default=12, help="independent runs stacked as the bay's traffic")
    ap.add_argument("--interval-min", type=float, default=1.0)
    ap.add_argument("--formats", nargs="+", default=["csv", "dma", "nmea"], choices=["csv", "dma", "nmea"])
    ap.add_argument("--work", type=Path, default=None, help="folder for the generated files (kept)")
    ap.add_argument("--chunk-rows", type=int, default=250_000, help="detection chunk size (memory bound)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, path, out, chunk_rows = args.child
        print(json.dumps(child(mode, path, out, int(chunk_rows))))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_ais_"))
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine load (1 min) {load:.1f} on {os.cpu_count()} cores; files in {work}; "
          f"chunks of {args.chunk_rows:,} lines")
    files = write_files(work, args)
    rows = []
    for (fmt, span), f in files.items():
        d = measure("detect", f, work / f"out-{f.stem}", args.chunk_rows)
        base = measure("pyais" if fmt == "nmea" else "arrow", f, work)
        typed = measure("arrow-typed", f, work) if fmt != "nmea" else None
        share = measure("pyais-share", f, work / f"out-{f.stem}", args.chunk_rows) if fmt == "nmea" else None
        rate = d["positions"] / d["cpu"]
        rows.append((fmt, span, f, d, base, rate))
        print(f"{fmt:4s} {span:>8s}: {d['messages']:>10,} messages, {d['positions']:>10,} positions kept, "
              f"{d['calls']:,} calls; {d['cpu']:.2f} s CPU ({d['seconds']:.1f} s wall) = {rate:,.0f} positions/s "
              f"of CPU, peak {d['rss_mb']:,.0f} MB; "
              + (f"pyarrow read_csv alone {base['cpu']:.2f} s CPU (detection = {d['cpu'] / base['cpu']:.2f}x "
                 f"a plain parse); the reader's typed parse alone {typed['cpu']:.2f} s CPU (detection = "
                 f"{d['cpu'] / typed['cpu']:.2f}x it)" if fmt != "nmea" else
                 f"pyais alone decoding every sentence {base['cpu']:.2f} s CPU "
                 f"(= {base['cpu'] / d['cpu']:.0%} of the detection time); inside the detection "
                 f"{share['pyais_cpu']:.2f} s of {share['cpu']:.2f} s CPU in pyais "
                 f"({share['pyais_cpu'] / share['cpu']:.0%}; identical payloads are decoded once)"), flush=True)
    for fmt in args.formats:
        week = next(r for r in rows if r[0] == fmt and r[1] == "1 week")
        full = next(r for r in rows if r[0] == fmt and r[1] != "1 week")
        print(f"{fmt}: peak memory {full[1]} / 1 week = {full[3]['rss_mb'] / week[3]['rss_mb']:.2f} for "
              f"{full[3]['messages'] / max(week[3]['messages'], 1):.1f}x the messages")
    for fmt, span, _, _, _, rate in rows:
        if fmt != "nmea" and span != "1 week":
            print(f"CSV target {TARGET_CSV_POS_S:,} positions/s on one core, {fmt}: "
                  f"{'met' if rate >= TARGET_CSV_POS_S else 'NOT met'} ({rate:,.0f}; load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
