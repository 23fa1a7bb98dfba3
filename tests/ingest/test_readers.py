"""The AIS readers on real-world sentences and on each class of defect.

Sentence strings are facts copied from public AIS documentation and test suites:
gpsd's "AIVDM/AIVDO protocol decoding" worked examples (types 1, 4, 5, 18) and pyais's
test suite (tag blocks from an ORBCOMM-style feed)."""

import gzip

import numpy as np
import pandas as pd
import pytest

from callao.ingest import readers as r
from callao.ingest.readers import AISFormatError, read_ais, sniff

GPSD_TYPE1 = "!AIVDM,1,1,,B,177KQJ5000G?tO`K>RA1wUbN0TKH,0*5C"  # 477553000, moored, 47.582833 N 122.345833 W
GPSD_TYPE5 = ("!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
              "!AIVDM,2,2,1,A,88888888880,2*25")  # EVER DIADEM, 351759000, 225 + 70 m, draught 12.2 m
GPSD_TYPE18 = "!AIVDM,1,1,,A,B52K>;h00Fc>jpUlNV@ikwpUoP06,0*4C"  # class B, 338087471
GPSD_TYPE4 = "!AIVDM,1,1,,A,403OviQuMGCqWrRO9>E6fE700@GO,0*4D"  # base station report
TRAILING_EPOCH = "!AIVDM,1,1,,A,13cm=`00000`iAnIJ3W;Ic220@0a,0*36,1738369261"  # a receiver's trailing time column
PYAIS_TAGGED = "\\s:2573535,c:1671533231*08\\!BSVDM,1,1,,A,13nN34?000QFpgRWnQLLSPpF00SO,0*06"


def read_all(path):
    chunks = list(read_ais(path, chunk_rows=1000))
    import pandas as pd

    return (pd.concat([c.positions for c in chunks], ignore_index=True),
            pd.concat([c.statics for c in chunks], ignore_index=True),
            pd.concat([c.refused for c in chunks], ignore_index=True),
            sum(c.messages for c in chunks))


def test_decodes_real_positions_statics_and_time_prefixes(tmp_path):
    f = tmp_path / "feed.txt"
    f.write_text("\n".join([
        f"1704067200 {GPSD_TYPE1}",  # epoch column
        f"2024-01-01T00:05:00Z,{GPSD_TYPE5[0]}",  # ISO time column, multi-part static
        f"2024-01-01T00:05:00Z,{GPSD_TYPE5[1]}",
        f"\\c:1704067800*00\\{GPSD_TYPE18}",  # tag block
        PYAIS_TAGGED,
        TRAILING_EPOCH,
    ]) + "\n")
    assert sniff(f) == "nmea"
    pos, stat, refused, messages = read_all(f)
    assert messages == 6 and len(refused) == 0
    assert list(pos["mmsi"]) == [477553000, 338087471, 258442000, 247287200]
    assert pos["t"].iloc[3] == 1738369261
    first = pos.iloc[0]
    assert first["t"] == 1704067200 and first["status"] == 5
    assert first["lat"] == pytest.approx(47.582833, abs=1e-6)
    assert first["lon"] == pytest.approx(-122.345833, abs=1e-6)
    assert pos.iloc[1]["t"] == 1704067800 and pos.iloc[1]["sog"] == pytest.approx(0.1)
    assert pos.iloc[2]["t"] == 1671533231
    s = stat.iloc[0]
    assert (s["mmsi"], s["name"], s["loa_m"], s["draft_m"], s["ship_type"]) == (351759000, "EVER DIADEM", 295, 12.2, 70)
    assert s["t"] == 1704067500


def test_each_defect_is_refused_with_its_reason(tmp_path):
    from pyais.encode import encode_dict

    not_available = encode_dict({"type": 1, "mmsi": 760000001, "lat": 91, "lon": 181}, talker_id="AI",
                                sentence_type="VDM")[0]
    lines = [
        f"1704067200 {GPSD_TYPE1[:-2]}5D",  # bad checksum
        f"1704067201 {GPSD_TYPE1[:28]}",  # truncated: no checksum field
        f"1704067202 {GPSD_TYPE5[1]}",  # a second part without its first
        f"1704067203 {GPSD_TYPE4}",  # base station: unsupported message type
        f"1704067204 {not_available}",  # lat 91 / lon 181
        GPSD_TYPE1,  # no time anywhere
        f"1704067206 {GPSD_TYPE5[0]}",  # first part of a two-part message; the second never comes
        "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",  # not AIS
        f"1704067207 {GPSD_TYPE1}",  # the one good line
    ]
    f = tmp_path / "dirty.nmea"
    f.write_text("\n".join(lines) + "\n")
    pos, stat, refused, messages = read_all(f)
    assert len(pos) == 1 and pos["t"].iloc[0] == 1704067207
    by_line = dict(zip(refused["line"], refused["reason"]))
    assert by_line == {1: r.BAD_CHECKSUM, 2: r.MALFORMED, 3: r.UNPAIRED, 4: r.UNSUPPORTED, 5: r.NOT_AVAILABLE,
                       6: r.NO_TIME, 7: r.UNPAIRED, 8: r.UNSUPPORTED}
    # a type we do not use is refused from its payload's first character, before pyais decodes it
    assert np.isnan(refused.loc[refused["line"] == 4, "mmsi"].iloc[0])
    assert GPSD_TYPE4 in refused.loc[refused["line"] == 4, "raw"].iloc[0]


def test_gzip_is_read_from_content_not_name(tmp_path):
    f = tmp_path / "feed.dat"  # no .gz suffix: recognised by its magic number
    with gzip.open(f, "wt") as g:
        g.write(f"1704067200 {GPSD_TYPE1}\n")
    assert sniff(f) == "nmea"
    assert len(read_all(f)[0]) == 1


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (bytes(range(256)) * 20, "binary"),
    (b"id,when,x,y\n1,2,3,4\n", "unknown layout"),
])
def test_bad_files_give_one_clear_error(tmp_path, content, expected):
    f = tmp_path / "x.csv"
    f.write_bytes(content)
    with pytest.raises(AISFormatError, match=f"x.csv: .*{expected}.*expected NMEA 0183"):
        sniff(f)


MC_ROWS = """MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass
367000001,2023-01-01T00:00:00,-12.03,-77.20,0.1,120.0,511,EVER DIADEM,IMO9134270,3FOF8,70,1,295,32,12.2,70,A
367000001,2023-01-01T00:01:00,91.0,181.0,0.1,120.0,511,EVER DIADEM,IMO9134270,3FOF8,70,1,295,32,12.2,70,A
367000001,2023-01-01T00:02:00,-12.03,not-a-number,0.1,120.0,511,EVER DIADEM,IMO9134270,3FOF8,70,1,295,32,12.2,70,A
367000001,,-12.03,-77.20,0.1,120.0,511,EVER DIADEM,IMO9134270,3FOF8,70,1,295,32,12.2,70,A
367000002,2023-01-01T00:03:00,-12.04,-77.15,10.5,90.0,90,"PILOT, ONE",,,50,0,20,6,,,A
367000002,2023-01-01T00:04:00,-12.04,-77.15
367000002,2023-01-01T00:05:00,-12.04,-77.15,10.5,90.0,90,"PILOT, ONE",,,50,0,20,6,,,A
"""


def test_marinecadastre_rows_and_bad_values(tmp_path):
    f = tmp_path / "mc.csv"
    f.write_text(MC_ROWS)
    assert sniff(f) == "marinecadastre"
    pos, stat, refused, messages = read_all(f)
    assert messages == 7
    assert list(pos["mmsi"]) == [367000001, 367000002, 367000002]
    assert list(pos["line"]) == [2, 6, 8]
    assert pos["t"].iloc[0] == 1672531200
    reasons = dict(zip(refused["line"], refused["reason"]))
    assert reasons[3] == r.NOT_AVAILABLE
    assert reasons[4].startswith(r.BAD_VALUE) and "not-a-number" in reasons[4]
    assert reasons[5] == r.NO_TIME
    assert reasons[7] == r.MALFORMED  # too few fields
    assert set(stat["name"]) == {"EVER DIADEM", "PILOT, ONE"}
    assert stat.set_index("mmsi").loc[367000001, "loa_m"] == 295


DMA_ROWS = (r.DMA_HEADER + "\n" +
            "01/03/2024 00:00:00,Class A,219000001,55.70,12.60,Moored,0,0.0,0,90,9000001,OXAB,AARHUS BAY,Cargo,,32,"
            "300,GPS,12.5,DKAAR,01/03/2024 06:00:00,AIS,,,,\n"
            "01/03/2024 00:00:10,Base Station,2190047,55.60,12.50,Unknown value,,,,,,,,Undefined,,,,GPS,,,,AIS,,,,\n"
            "01/03/2024 00:00:20,Class A,219000001,55.70,12.60,Moored,0,0.0,0,90,9000001,OXAB,AARHUS BAY,Cargo,,32,"
            "300,GPS,12.5,DKAAR,01/03/2024 06:00:00,AIS,,,,\n")


def test_dma_layout(tmp_path):
    f = tmp_path / "aisdk.csv"
    f.write_text(DMA_ROWS)
    assert sniff(f) == "dma"
    pos, stat, refused, messages = read_all(f)
    assert messages == 3 and len(pos) == 2
    assert pos["t"].iloc[1] - pos["t"].iloc[0] == 20
    assert pos["t"].iloc[0] == 1709251200  # 1 March 2024, day first
    assert list(pos["status"]) == [5, 5]
    assert list(refused["reason"]) == [r.UNSUPPORTED]
    s = stat.iloc[0]
    assert (s["name"], s["loa_m"], s["draft_m"], s["ship_type"]) == ("AARHUS BAY", 300, 12.5, 70)


def test_dma_bad_timestamp_is_refused_with_its_value_and_rows_with_empty_text_survive(tmp_path):
    """A time not in day-first form sends the file down the text path; the Base Station row there has
    empty text fields (Name, Ship type), which once crashed it instead of being read."""
    f = tmp_path / "aisdk.csv"
    rows = DMA_ROWS.splitlines()
    f.write_text("\n".join(rows + [rows[1].replace("01/03/2024 00:00:00", "32/03/2024 00:00:00")]) + "\n")
    pos, stat, refused, messages = read_all(f)
    assert messages == 4 and list(pos["line"]) == [2, 4]
    reasons = dict(zip(refused["line"], refused["reason"]))
    assert reasons == {3: r.UNSUPPORTED, 5: f"{r.BAD_VALUE}: # Timestamp='32/03/2024 00:00:00'"}
    assert stat.iloc[0]["name"] == "AARHUS BAY"


def test_csv_streams_in_chunks(tmp_path):
    f = tmp_path / "mc.csv"
    rows = [MC_ROWS.splitlines()[0]] + [
        f"3670000{i % 7:02d},2023-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},-12.03,-77.20,0.1,120.0,"
        "511,X,,,70,1,200,32,12.2,70,A" for i in range(5000)]
    f.write_text("\n".join(rows) + "\n")
    chunks = list(read_ais(f, chunk_rows=1000))
    assert [len(c.positions) for c in chunks] == [1000] * 5  # chunks of exactly chunk_rows rows
    assert [len(c) for c in chunks] == [1000] * 5 and all(c.columns["line"].dtype == np.int64 for c in chunks)
    lines = np.concatenate([c.positions["line"].to_numpy() for c in chunks])
    assert np.array_equal(lines, np.arange(2, 5002))


def test_csv_bad_values_in_later_chunks_are_refused_by_line_and_nothing_is_lost(tmp_path):
    """The streaming reader meets a wrong field count in the first chunk and words in a number
    column in later chunks: those rows alone are refused, with their file line, and every other
    row is read once."""
    f = tmp_path / "mc.csv"
    rows = [f"3670000{i % 7:02d},2023-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},-12.03,-77.20,"
            "0.1,120.0,511,X,,,70,1,200,32,12.2,70,A" for i in range(5000)]
    rows[500] = "367000001,2023-01-01T00:00:00,-12.0"  # line 502: truncated row
    rows[2500] = rows[2500].replace(",0.1,120.0,", ",fast,120.0,")  # line 2502
    rows[4000] = rows[4000].replace(",0.1,120.0,", ",x,120.0,")  # line 4002
    f.write_text(MC_ROWS.splitlines()[0] + "\n" + "\n".join(rows) + "\n")
    chunks = list(read_ais(f, chunk_rows=1000))
    assert len(chunks) >= 4 and sum(c.messages for c in chunks) == 5000
    pos = pd.concat([c.positions for c in chunks], ignore_index=True)
    refused = pd.concat([c.refused for c in chunks], ignore_index=True)
    assert list(refused["line"]) == [502, 2502, 4002]
    assert refused["reason"].iloc[0] == r.MALFORMED
    assert refused["reason"].iloc[1].startswith(r.BAD_VALUE) and "fast" in refused["reason"].iloc[1]
    assert refused["reason"].iloc[2].startswith(r.BAD_VALUE) and "'x'" in refused["reason"].iloc[2]
    assert np.array_equal(pos["line"].to_numpy(), np.setdiff1d(np.arange(2, 5002), [502, 2502, 4002]))


def test_a_repeated_nmea_position_still_needs_its_time(tmp_path):
    """A sentence seen before takes the short path only when it has a time: the same report
    again without a time column is refused as such, and a static report never takes it."""
    f = tmp_path / "repeat.nmea"
    f.write_text("\n".join([f"1704067200 {GPSD_TYPE1}", f"1704067260 {GPSD_TYPE1}", GPSD_TYPE1,
                            f"1704067320 {GPSD_TYPE1}", f"1704067320 {GPSD_TYPE5[0]}", f"1704067320 {GPSD_TYPE5[1]}",
                            f"1704067380 {GPSD_TYPE5[0]}", f"1704067380 {GPSD_TYPE5[1]}"]) + "\n")
    pos, stat, refused, messages = read_all(f)
    assert messages == 8
    assert pos["t"].tolist() == [1704067200, 1704067260, 1704067320] and pos["line"].tolist() == [1, 2, 4]
    assert refused[["line", "reason"]].values.tolist() == [[3, r.NO_TIME]]
    assert stat["t"].tolist() == [1704067320, 1704067380] and set(stat["name"]) == {"EVER DIADEM"}


def _messy_tagged_nmea(n: int, seed: int = 4) -> str:
    """``n`` lines of tag-blocked traffic (plain position reports, repeats, multi-part statics)
    with every kind of defect mixed in: the lines the bulk path takes and those it leaves."""
    rng = np.random.default_rng(seed)
    good = [GPSD_TYPE1, GPSD_TYPE18, "!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C",
            "!AIVDM,1,1,,B,1;Dpl`0P1orNkdCq3Q=eQ:moP000,0*1B"]
    lines, t = [], 1704067200
    for i in range(n):
        t += int(rng.integers(0, 30))
        tag = f"\\s:callao,c:{t}*00\\"
        k = rng.integers(0, 20)
        if k < 10:
            lines.append(tag + good[int(rng.integers(0, len(good)))])
        elif k == 10:
            lines += [tag + GPSD_TYPE5[0], tag + GPSD_TYPE5[1]]
        elif k == 11:
            lines.append(tag + GPSD_TYPE5[int(rng.integers(0, 2))])  # unpaired fragment
        elif k == 12:
            lines.append(tag + GPSD_TYPE1[:-1] + "D")  # bad checksum
        elif k == 13:
            lines.append(tag + GPSD_TYPE1[:int(rng.integers(0, len(GPSD_TYPE1)))])  # cut short
        elif k == 14:
            lines.append(GPSD_TYPE1)  # no time
        elif k == 15:
            lines.append(f"{t} {GPSD_TYPE18}")  # leading epoch column
        elif k == 16:
            lines.append(tag + GPSD_TYPE4)  # unsupported type
        elif k == 17:
            lines.append("" if i % 2 else "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A")
        elif k == 18:
            lines.append(tag + good[0] + "\r")  # CRLF
        else:
            lines.append(f"\\g:1-2-3,c:{t}\\" + good[3])  # another tag block layout
    return "\n".join(lines)  # no final newline


@pytest.mark.parametrize("chunk_rows", [7, 100_000])
def test_plain_lines_in_bulk_read_exactly_as_line_by_line(tmp_path, monkeypatch, chunk_rows):
    """The bulk path for plain tagged position reports (matched and split by pyarrow, decoded once
    each with pyais) gives the same chunks — positions in order, statics, refused lines with their
    reasons, message counts, chunk boundaries — as reading every line the slow way, whatever the
    block size."""
    f = tmp_path / "messy.nmea"
    f.write_text(_messy_tagged_nmea(1500))
    plain_lines = []
    bulk_lines = r._plain_lines

    def counted(*args):
        rows, fast = bulk_lines(*args)
        plain_lines.append(int(fast.sum()))
        return rows, fast

    monkeypatch.setattr(r, "_plain_lines", counted)

    def chunks():
        return [(c.messages, c.positions, c.statics, c.refused) for c in r.read_nmea(f, chunk_rows)]

    bulk = chunks()
    assert sum(plain_lines) > 500  # the bulk path was taken
    monkeypatch.setattr(r, "LINE_BLOCK_BYTES", 200)  # blocks of a few lines
    small_blocks = chunks()
    monkeypatch.setattr(r, "PLAIN_LINE", r"^(?P<c>x)(?P<s>x)$")  # matches nothing: every line the slow way
    slow = chunks()
    assert sum(len(c[1]) for c in slow) > 700 and sum(len(c[3]) for c in slow) > 150
    assert {reason.split(":")[0] for c in slow for reason in c[3]["reason"]} >= {
        r.BAD_CHECKSUM, r.MALFORMED, r.UNPAIRED, r.UNSUPPORTED, r.NO_TIME}
    for got in (bulk, small_blocks):
        assert len(got) == len(slow)
        for a, b in zip(got, slow):
            assert a[0] == b[0]
            for x, y in zip(a[1:], b[1:]):
                pd.testing.assert_frame_equal(x, y)


def test_times_beyond_any_timestamp_are_refused_not_a_crash(tmp_path):
    """A corrupt time (13 digits read as milliseconds: 2286; a year 2300 date) cannot be a
    timestamp: the line is refused as out of range, in NMEA (tag block, on the bulk path's pattern
    too, leading ISO column) and in CSV, and detection carries on with the rest."""
    from callao.ingest.detect import detect_calls

    tagged = "\\s:2573535,c:{}*08\\!BSVDM,1,1,,A,13nN34?000QFpgRWnQLLSPpF00SO,0*06"
    f = tmp_path / "late.nmea"
    f.write_text("\n".join([tagged.format(1671533231), tagged.format(9991701650699), tagged.format(9991701650),
                            f"2300-01-01T00:00:00Z {GPSD_TYPE1}", f"2023-01-01T00:00:00Z {GPSD_TYPE1}"]) + "\n")
    pos, _, refused, messages = read_all(f)
    assert messages == 5 and pos["line"].tolist() == [1, 5]
    assert refused[["line", "reason"]].values.tolist() == [[2, r.NO_TIME], [3, r.NO_TIME], [4, r.NO_TIME]]
    calls, summary = detect_calls([f], tmp_path / "out")
    assert (tmp_path / "out" / "quarantine.csv").read_text().count(r.NO_TIME) == 3

    c = tmp_path / "late.csv"
    c.write_text(MC_ROWS.splitlines()[0] + "\n"
                 + "367000001,2300-01-01T00:00:00,-12.04,-77.15,0.1,90.0,90,EVER DIADEM,,,70,5,295,42,12.0,,A\n"
                 + "367000001,2023-01-01T00:00:00,-12.04,-77.15,0.1,90.0,90,EVER DIADEM,,,70,5,295,42,12.0,,A\n")
    pos, _, refused, _ = read_all(c)
    assert pos["line"].tolist() == [3] and refused[["line", "reason"]].values.tolist() == [[2, r.NO_TIME]]
