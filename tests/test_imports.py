"""Import time: `import callao` and the CLI's start-up load no heavy package they do not need.

LightGBM, scikit-learn and SciPy (about 2 s of CPU to import), plotly, Dask, Dash and FastAPI are
imported where they are used: the twin's export targeting, a report, `callao compare`, the
dashboard, the service. Each check runs in a fresh interpreter, as a user's command would.
"""

import json
import subprocess
import sys

HEAVY = ("lightgbm", "sklearn", "scipy", "plotly", "dask", "distributed", "dash", "fastapi", "shap",
         "sqlalchemy")


def _imported_after(code: str) -> list[str]:
    """The heavy top-level packages in ``sys.modules`` after running ``code`` in a new interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    return sorted(loaded.intersection(HEAVY))


def test_import_callao_loads_no_heavy_package():
    assert _imported_after("import callao") == []


def test_cli_start_up_loads_no_heavy_package():
    helps = [["--help"], ["run", "--help"], ["compare", "--help"], ["targeting", "--help"], ["calls", "--help"]]
    code = ("from typer.testing import CliRunner\nfrom callao.cli import app\n"
            f"for args in {helps!r}:\n"
            "    res = CliRunner().invoke(app, args)\n    assert res.exit_code == 0, res.output")
    assert _imported_after(code) == []


def test_lazy_package_names_still_resolve():
    """`from callao.targeting import RiskModel` and friends work as before, imported on first use."""
    code = ("import callao.targeting as t\nfrom callao.targeting import RiskModel, metrics_at_rates, validate\n"
            "assert all(getattr(t, n) is not None for n in t.__all__)\n"
            "assert RiskModel.__module__ == 'callao.targeting.model'")
    assert "lightgbm" in _imported_after(code)  # the model really was imported, on first use


def test_import_callao_is_lazy_and_its_names_resolve():
    """`import callao` loads neither pandas nor pyarrow; `callao.simulate` and friends load on first use."""
    probe = ("import json, sys, callao\nbefore = sorted({m.split('.')[0] for m in sys.modules})\n"
             "from callao import Results, Scenario, ScenarioError, load_scenario, simulate\n"
             "assert callao.simulate is simulate and Results.__module__ == 'callao.results'\n"
             "print(json.dumps(before))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not before & {"pandas", "pyarrow", "pydantic"}
