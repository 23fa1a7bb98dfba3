"""The project carries its sources: every [R#] key it cites is in docs/sources.md, and nothing
points a user to the ../shared folder that a clone does not have."""

import re
from pathlib import Path

from callao.calibration import CALLAO_TARGETS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources.md"
KEY = re.compile(r"\bR\d{1,3}[a-z]?\b")
TEXT = {".py", ".toml", ".md", ".geojson", ".json", ".html", ".txt", ".css"}


def cited_keys() -> dict[str, set[str]]:
    """key -> files citing it, over src/, docs/ and the README."""
    files = [ROOT / "README.md"]
    for folder in ("src", "docs"):
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in TEXT and p != SOURCES]
    cited: dict[str, set[str]] = {}
    for f in files:
        for key in KEY.findall(f.read_text(encoding="utf-8")):
            cited.setdefault(key, set()).add(str(f.relative_to(ROOT)))
    return cited


def defined_keys() -> dict[str, str]:
    """key -> reference text, from the reference tables of docs/sources.md."""
    rows = re.findall(r"^\| (R\d{1,3}[a-z]?) \| ([^|]+) \|", SOURCES.read_text(encoding="utf-8"), flags=re.M)
    return {k: ref.strip() for k, ref in rows}


def test_every_cited_key_has_a_reference():
    defined = defined_keys()
    cited = cited_keys()
    assert len(cited) >= 30  # the scenarios cite dozens of sources: the scan finds them
    missing = {k: sorted(f) for k, f in cited.items() if k not in defined}
    assert not missing, f"keys cited but not in docs/sources.md: {missing}"
    assert all(len(ref) > 10 for ref in defined.values())


def test_calibration_sources_are_known_keys():
    defined = defined_keys()
    for t in CALLAO_TARGETS:
        keys = KEY.findall(t.source)
        assert keys and all(k in defined for k in keys), t


def test_the_scan_would_catch_an_unknown_key(tmp_path):
    assert "R999" not in defined_keys()
    assert KEY.findall("moves_per_crane_hour = 20.0   # [R9][R31], R5b") == ["R9", "R31", "R5b"]


def test_vocabulary_is_explained():
    text = SOURCES.read_text(encoding="utf-8")
    glossary = text.split("## Vocabulary", 1)[1].split("\n## ", 1)[0]
    for term in ("`NF`", "`ASSUMPTION`", "*levante*", "`[R#]`", "TEU", "move", "*derived*", "indicative"):
        assert term in glossary, term


def test_user_facing_text_points_to_docs_sources_not_shared():
    files = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), ROOT / "src/callao/cli.py",
             *(ROOT / "src/callao/scenario/bundled").glob("*.toml")]
    for f in files:
        assert "shared/facts" not in f.read_text(encoding="utf-8"), f
    assert "docs/sources.md" in (ROOT / "README.md").read_text(encoding="utf-8")
