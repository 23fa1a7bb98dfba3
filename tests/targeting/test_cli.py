import numpy as np
import pandas as pd
from typer.testing import CliRunner

from callao.targeting.cli import app

from .conftest import planted_declarations

runner = CliRunner()


def _data(tmp_path):
    df = planted_declarations(np.random.default_rng(2), n=1200, days=40)
    df.loc[5, "weight_kg"] = -1.0  # one bad row -> quarantined
    path = tmp_path / "decl.csv"
    df.to_csv(path, index=False)
    return path


def test_train_evaluate_score_round_trip(tmp_path):
    data = _data(tmp_path)
    model = tmp_path / "model.joblib"
    r = runner.invoke(app, ["train", str(data), "--out", str(model), "--n-estimators", "40"])
    assert r.exit_code == 0, r.output
    assert "1 quarantined" in r.output and model.exists()
    assert (tmp_path / "model.quarantine.csv").exists()

    r = runner.invoke(app, ["evaluate", str(data), "--model", str(model)])
    assert r.exit_code == 0, r.output
    assert "precision" in r.output and "0.100" in r.output  # the 10% row of the table
    r = runner.invoke(app, ["evaluate", str(data)])  # time split, no model
    assert r.exit_code == 0, r.output
    assert "time split" in r.output

    out = tmp_path / "ranked.parquet"
    unlabelled = tmp_path / "new.csv"
    pd.read_csv(data).drop(columns=["illicit", "revenue"]).to_csv(unlabelled, index=False)
    r = runner.invoke(app, ["score", str(unlabelled), "--model", str(model), "--out", str(out)])
    assert r.exit_code == 0, r.output
    ranked = pd.read_parquet(out)
    assert {"declaration_id", "risk", "rank", "reason_1", "reason_2", "reason_3"} <= set(ranked.columns)
    assert len(ranked) == 1199
    assert ranked["risk"].is_monotonic_decreasing and list(ranked["rank"]) == list(range(1, 1200))
    assert (tmp_path / "ranked.quarantine.csv").exists()
    # reasons belong to their own declaration: compare with explaining the top rows directly
    from callao.targeting.explain import reasons_text
    from callao.targeting.io import read_declarations
    from callao.targeting.model import RiskModel

    new = read_declarations(unlabelled).data.set_index("declaration_id")
    top = new.loc[ranked["declaration_id"].head(5)].reset_index()
    expected = reasons_text(RiskModel.load(model), top, 3)
    assert list(expected["reason_1"]) == list(ranked["reason_1"].head(5))
    out2 = tmp_path / "top.csv"
    r = runner.invoke(app, ["score", str(unlabelled), "--model", str(model), "--out", str(out2), "--explain-top", "10"])
    assert r.exit_code == 0, r.output
    top10 = pd.read_csv(out2)
    assert top10["reason_1"].head(10).notna().all() and top10["reason_1"].iloc[10:].isna().all()


def test_missing_column_and_missing_file_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"declaration_id": ["a"], "date": ["2025-01-01"]}).to_csv(bad, index=False)
    r = runner.invoke(app, ["train", str(bad), "--out", str(tmp_path / "m.joblib")])
    assert r.exit_code == 2
    # a usage error ends the command with SystemExit(2); any other exception would be a crash
    # (CliRunner keeps it in r.exception and never prints a traceback into r.output)
    assert "missing required column" in r.output and isinstance(r.exception, SystemExit)
    r = runner.invoke(app, ["evaluate", str(tmp_path / "nope.csv")])
    assert r.exit_code == 2 and "file not found" in r.output and isinstance(r.exception, SystemExit)
    r = runner.invoke(app, ["score", str(bad), "--model", str(tmp_path / "nomodel"), "--out", str(tmp_path / "o.csv")])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert "missing required column" in r.output or "model file not found" in r.output


def test_wco_format_file_is_accepted_without_conversion(tmp_path):
    df = planted_declarations(np.random.default_rng(3), n=800, days=40)
    wco = pd.DataFrame({
        "sgd.id": df["declaration_id"], "sgd.date": df["date"].dt.strftime("%y-%m-%d"),
        "importer.id": df["importer_id"], "declarant.id": df["declarant_id"], "country": df["origin_country"],
        "office.id": "OF1", "tariff.code": df["hs_code"], "quantity": df["quantity"],
        "gross.weight": df["weight_kg"], "fob.value": df["value_usd"], "cif.value": df["value_usd"] * 1.1,
        "total.taxes": df["value_usd"] * 0.1, "illicit": df["illicit"].astype(int), "revenue": df["revenue"],
    })
    path = tmp_path / "wco.parquet"
    wco.to_parquet(path)
    r = runner.invoke(app, ["evaluate", str(path)])
    assert r.exit_code == 0, r.output
    assert "(wco format), 0 quarantined" in r.output and "precision" in r.output


def test_protocol_command_compares_strategies_week_by_week(tmp_path):
    df = planted_declarations(np.random.default_rng(4), n=1500, days=60)
    df.loc[3, "weight_kg"] = -1.0  # quarantined, not dropped silently
    data = tmp_path / "decl.parquet"
    df.to_parquet(data, index=False)
    weekly = tmp_path / "weekly.csv"
    r = runner.invoke(app, ["protocol", str(data), "--rates", "0.1", "--strategies", "random,risky_profile",
                            "--initial-days", "30", "--out", str(weekly)])
    assert r.exit_code == 0, r.output
    assert "1 quarantined" in r.output and "risky_profile" in r.output and "test weeks" in r.output
    w = pd.read_csv(weekly)
    assert set(w["strategy"]) == {"random", "risky_profile"} and (w["rate"] == 0.1).all()
    assert (w["inspected"] <= np.ceil(0.1 * w["declarations"])).all()  # capacity never exceeded
    prec = w.groupby("strategy")["hits"].sum() / w.groupby("strategy")["inspected"].sum()
    assert prec["risky_profile"] > prec["random"] + 0.1  # the planted HS × country pattern is found


def test_protocol_command_rejects_bad_options(tmp_path):
    data = _data(tmp_path)
    for args, needle in ((["--strategies", "oracle"], "unknown strategy 'oracle'"),
                         (["--rates", "5"], "expected numbers in (0, 1)"),
                         (["--initial-days", "90"], "leaves no test week"),
                         (["--revenue-exponent", "0,-1"], "expected numbers >= 0")):
        r = runner.invoke(app, ["protocol", str(data), *args])
        assert r.exit_code == 2 and needle in r.output, r.output


def test_revenue_exponent_ranks_by_priority(tmp_path):
    """A model trained with --revenue-exponent ranks by risk × (1 + predicted revenue)^γ."""
    df = planted_declarations(np.random.default_rng(6), n=1500, days=40)
    rng = np.random.default_rng(1)
    df["revenue"] = np.where(df["illicit"] == 1, rng.lognormal(8, 2, len(df)), 0.0)  # stakes vary widely
    data, model, out = tmp_path / "d.csv", tmp_path / "m.joblib", tmp_path / "ranked.csv"
    df.to_csv(data, index=False)
    r = runner.invoke(app, ["train", str(data), "--out", str(model), "--n-estimators", "40", "--revenue-exponent", "1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["score", str(data), "--model", str(model), "--out", str(out), "--explain-top", "5"])
    assert r.exit_code == 0, r.output
    ranked = pd.read_csv(out)
    assert ranked["priority"].is_monotonic_decreasing and not ranked["risk"].is_monotonic_decreasing
    r = runner.invoke(app, ["train", str(data), "--out", str(model), "--revenue-exponent", "-0.5"])
    assert r.exit_code == 2 and "expected a number >= 0" in r.output


def test_protocol_compares_ours_at_several_revenue_exponents(tmp_path):
    df = planted_declarations(np.random.default_rng(5), n=1200, days=50)
    data = tmp_path / "decl.csv"
    df.to_csv(data, index=False)
    weekly = tmp_path / "weekly.csv"
    r = runner.invoke(app, ["protocol", str(data), "--rates", "0.1", "--strategies", "ours",
                            "--revenue-exponent", "0,0.5", "--initial-days", "30", "--retrain-every", "2",
                            "--out", str(weekly)])
    assert r.exit_code == 0, r.output
    assert set(pd.read_csv(weekly)["strategy"]) == {"ours γ=0", "ours γ=0.5"}


def test_score_explains_only_what_the_inspection_rate_selects(tmp_path, monkeypatch):
    """A year (~75,000 declarations) is scored in full; reasons (TreeSHAP) only for the top 5 %."""
    from callao.targeting.metrics import n_inspected
    from callao.targeting.model import RiskModel

    year = planted_declarations(np.random.default_rng(8), n=75_000, days=365)
    data, model = tmp_path / "year.parquet", tmp_path / "m.joblib"
    year.drop(columns=["illicit", "revenue"]).to_parquet(data, index=False)
    RiskModel(n_estimators=30, num_leaves=15).fit(year.iloc[:5000]).save(model)
    explained: list[int] = []
    original = RiskModel.contributions
    monkeypatch.setattr(RiskModel, "contributions", lambda self, X: explained.append(len(X)) or original(self, X))
    out = tmp_path / "ranked.parquet"
    r = runner.invoke(app, ["score", str(data), "--model", str(model), "--out", str(out)])
    assert r.exit_code == 0, r.output
    ranked = pd.read_parquet(out)
    k = n_inspected(75_000, 0.05)
    assert len(ranked) == 75_000 and ranked["risk"].notna().all()
    assert explained == [k]
    assert ranked["reason_1"].head(k).notna().all() and ranked["reason_1"].iloc[k:].isna().all()
    assert f"the top {k} explained" in r.output
    r = runner.invoke(app, ["score", str(data), "--model", str(model), "--out", str(out), "--inspection-rate", "0.01"])
    assert r.exit_code == 0 and explained[-1] == n_inspected(75_000, 0.01)
    r = runner.invoke(app, ["score", str(data), "--model", str(model), "--out", str(out), "--inspection-rate", "2"])
    assert r.exit_code == 2 and "expected a rate in (0, 1]" in r.output


def test_synthetic_command_writes_history_day_and_truth(tmp_path):
    out = tmp_path / "decl"
    r = runner.invoke(app, ["synthetic", "--out", str(out), "--days", "20", "--exports-per-day", "30",
                            "--imports-per-day", "20", "--inspected-share", "0.5"])
    assert r.exit_code == 0, r.output
    hist, day, truth = (pd.read_csv(out / f) for f in ("history.csv", "day.csv", "day-truth.csv"))
    assert set(hist["terminal"]) == {"dpworld", "apmt"} and "illicit" not in day.columns
    assert pd.to_datetime(hist["date"]).max() < pd.to_datetime(day["date"]).min()
    assert 0.4 < hist["illicit"].notna().mean() < 0.6  # labels only on the inspected share
    assert list(truth["declaration_id"]) == list(day["declaration_id"])
    r = runner.invoke(app, ["synthetic", "--out", str(out), "--days", "3"])
    assert r.exit_code == 2 and "expected 14..364" in r.output
