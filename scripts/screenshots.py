"""Regenerate the screenshots in docs/img/: the dashboard (whole page and map) and a run's report,
in headless Chromium as tests/web/test_browser.py drives it.

    .venv/bin/python scripts/screenshots.py [--years 1] [--run FOLDER] [--chromium /usr/bin/chromium]

Without ``--run`` it simulates the Callao scenario (seed 1, ``--years``, default one year, so
that the report's calibration table compares like with like); with it, it reads that run.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
from pathlib import Path

import callao
from callao.calibration import calibration_table
from callao.report import write_report
from callao.results import Results
from callao.web.app import create_app

IMG = Path(__file__).resolve().parents[1] / "docs" / "img"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--run", type=Path, help="an existing run folder to show (read with Results.read)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if a.run:
        run = a.run.resolve()
        root, r = run.parent, Results.read(run)
    else:
        root = Path(tempfile.mkdtemp(prefix="callao-shots-")) / "results"
        r = callao.simulate("callao", seed=1, years=a.years)
        run = r.write(root / "callao-seed1")
    write_report(r, run / "report.html", calibration=calibration_table(r.kpis))
    server = make_server("127.0.0.1", 0, create_app(root).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=a.chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(180_000)
        page.goto(url)
        page.wait_for_function("() => (document.querySelector('#map-status') || {}).innerText?.startsWith('hour')")
        page.wait_for_selector("#plot-quay-gantt .main-svg", state="attached")
        page.wait_for_timeout(1500)
        page.locator("#section-map").screenshot(path=str(IMG / "dashboard-map.png"))
        page.screenshot(path=str(IMG / "dashboard.png"), full_page=True)
        page.goto(url + f"download/{run.name}/report.html")
        page.wait_for_selector("#plot-berth-occupancy .main-svg")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(IMG / "report.png"), full_page=False)
        browser.close()
    server.shutdown()
    print(f"wrote {', '.join(p.name for p in sorted(IMG.glob('*.png')))} in {IMG}")


if __name__ == "__main__":
    main()
