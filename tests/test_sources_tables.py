"""Engine sources (``churn_research.sources.tables``): a directory or glob of Parquet/CSV files,
a DuckDB database file and a connection URL give the same processed data as the pandas path
on synthetic, telco and cdnow; the checks raise the pandas path's errors; credentials never
reach params, processed data, logs or error messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from churn_research import load
from churn_research.model import TABLES, ChurnData, ChurnDataError
from churn_research.sources import loader, loader_options
from churn_research.sources.tables import expand_url, is_engine_source, load_engine, redact_url

SECRET = "s3cr3t-Pa55word"


def _raw(data: ChurnData, directory: Path) -> dict:
    """``data``'s tables as a user's raw files (one Parquet file each, and the heavy tables
    also split over a directory of parts); the mapping settings that describe them."""
    directory.mkdir(parents=True, exist_ok=True)
    cust = data.customers
    if data.kind == "non-contractual":  # the loader infers churn from the purchases again
        cust = cust.drop(columns=["end_date", "last_purchase", "status"], errors="ignore")
    tables = {"customers": cust, **{t: df for t, df in data.tables().items() if t != "customers"}}
    for t, df in tables.items():
        df.to_parquet(directory / f"{t}.parquet", index=False)
        if t in ("customers", "transactions", "tickets", "surveys"):
            (directory / t).mkdir(exist_ok=True)
            half = len(df) // 2
            df.iloc[:half].to_parquet(directory / t / "part-0.parquet", index=False)
            df.iloc[half:].to_parquet(directory / t / "part-1.parquet", index=False)
    settings = {"kind": data.kind, "observation_end": str(data.observation_end.date()),
                "inactivity_days": data.inactivity_days}
    if data.records_start is not None:
        settings["records_start"] = str(data.records_start.date())
    return {"tables": list(tables), "settings": settings}


def _mapping(directory: Path, name: str, raw: dict, *, heavy_as: str) -> Path:
    entries = {}
    for t in raw["tables"]:
        file = f"{t}.parquet"
        if t in ("transactions", "tickets", "surveys") or (t == "customers" and len(raw["tables"]) == 1):
            file = {"file": f"{t}.parquet", "dir": f"{t}/", "glob": f"{t}/part-*.parquet"}[heavy_as]
        entries[t] = {"file": file}
    path = directory / name
    path.write_text(yaml.safe_dump({**raw["settings"], "tables": entries}))
    return path


def _same_processed(a: Path, b: Path, *, meta: bool = True, ordered: bool = True) -> None:
    """Same tables (rows, values, dtypes) and the same meta but for where they came from
    (``ordered=False``: rows in any order, as a database table has none)."""
    names = sorted(p.name for p in a.glob("*.parquet"))
    assert names == sorted(p.name for p in b.glob("*.parquet"))
    for name in names:
        x, y = pd.read_parquet(a / name), pd.read_parquet(b / name)
        if not ordered:
            x, y = (f.sort_values(list(f.columns)).reset_index(drop=True) for f in (x, y))
        pd.testing.assert_frame_equal(x, y, check_exact=True, obj=name)
    if not meta:
        return
    ma, mb = (json.loads((d / "meta.json").read_text()) for d in (a, b))
    for key in ("source", "checksums", "engine"):
        ma.pop(key, None), mb.pop(key, None)
    assert ma == mb


@pytest.fixture(scope="module")
def packaged():
    syn = load("synthetic", n_customers=1500, random_state=3)
    return {"synthetic": syn, "telco": load("telco"), "cdnow": load("cdnow")}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["synthetic", "telco", "cdnow"])
@pytest.mark.parametrize("heavy_as", ["dir", "glob"])
def test_engine_path_writes_the_pandas_paths_processed_data(packaged, name, heavy_as, tmp_path):
    raw = _raw(packaged[name], tmp_path / "raw")
    pandas_yaml = _mapping(tmp_path / "raw", "pandas.yaml", raw, heavy_as="file")
    engine_yaml = _mapping(tmp_path / "raw", "engine.yaml", raw, heavy_as=heavy_as)
    assert not is_engine_source(pandas_yaml) and is_engine_source(engine_yaml)
    load(pandas_yaml).write(tmp_path / "a")
    data = load(engine_yaml, processed_dir=tmp_path / "b")
    heavy = [t for t in ("transactions", "tickets", "surveys") if t in raw["tables"]]
    assert data.meta["engine"] == {"backend": "duckdb", "tables": heavy,
                                   "directory": str((tmp_path / "b").resolve())}
    written = {t: (tmp_path / "b" / f"{t}.parquet").stat().st_mtime_ns for t in heavy}
    data.write(tmp_path / "b")
    # the engine's files are left as they are; the small tables come from pandas
    assert {t: (tmp_path / "b" / f"{t}.parquet").stat().st_mtime_ns for t in heavy} == written
    _same_processed(tmp_path / "a", tmp_path / "b")
    if name == "synthetic":
        assert len(data.transactions) == len(packaged[name].transactions) == 69_820


def test_csv_glob_and_a_duckdb_file_and_a_url(packaged, tmp_path, monkeypatch):
    data = packaged["cdnow"]
    raw = _raw(data, tmp_path / "raw")
    (tmp_path / "raw" / "csv").mkdir()
    tx = data.transactions.assign(date=data.transactions["date"].dt.strftime("%Y/%m/%d"))
    tx.iloc[:30000].to_csv(tmp_path / "raw" / "csv" / "tx-1.csv", index=False)
    tx.iloc[30000:].to_csv(tmp_path / "raw" / "csv" / "tx-2.csv", index=False)
    tx.to_csv(tmp_path / "raw" / "tx.csv", index=False)
    spec = {**raw["settings"], "tables": {"customers": {"file": "customers.parquet"}}}
    (tmp_path / "raw" / "p.yaml").write_text(yaml.safe_dump(
        {**spec, "tables": {**spec["tables"], "transactions": {"file": "tx.csv"}}}))
    (tmp_path / "raw" / "e.yaml").write_text(yaml.safe_dump(
        {**spec, "tables": {**spec["tables"], "transactions": {"file": "csv/*.csv"}}}))
    load(tmp_path / "raw" / "p.yaml").write(tmp_path / "a")
    load(tmp_path / "raw" / "e.yaml", processed_dir=tmp_path / "b").write(tmp_path / "b")
    _same_processed(tmp_path / "a", tmp_path / "b")
    assert len(pd.read_parquet(tmp_path / "b" / "transactions.parquet")) == 69_659

    # a DuckDB database file: tables by name, renamed by source_options
    db = tmp_path / "shop.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE crm_customers AS SELECT * FROM '{tmp_path}/raw/customers.parquet'")
        con.execute(f"CREATE TABLE orders AS SELECT * FROM '{tmp_path}/raw/transactions.parquet'")
    opts = {"tables": {"customers": "crm_customers", "transactions": "orders"},
            **raw["settings"]}
    assert loader(db) is load_engine and set(opts) <= set(loader_options(db))
    load(db, processed_dir=tmp_path / "c", **opts).write(tmp_path / "c")
    _same_processed(tmp_path / "a", tmp_path / "c")

    # a connection URL (duckdb:// here; postgres:// and the other backends Ibis supports alike)
    got = load(f"duckdb://{db}", processed_dir=tmp_path / "d", **opts)
    got.write(tmp_path / "d")
    assert got.meta["engine"]["backend"] == "duckdb" and got.meta["source"] == f"duckdb://{db}"
    _same_processed(tmp_path / "a", tmp_path / "d")


def _bad_source(tmp_path, customers: pd.DataFrame, tx: pd.DataFrame, **settings) -> tuple:
    raw = tmp_path / "bad"
    (raw / "tx").mkdir(parents=True, exist_ok=True)
    customers.to_parquet(raw / "customers.parquet", index=False)
    tx.to_parquet(raw / "transactions.parquet", index=False)
    tx.to_parquet(raw / "tx" / "part-0.parquet", index=False)
    out = []
    for name, file in (("p.yaml", "transactions.parquet"), ("e.yaml", "tx/")):
        (raw / name).write_text(yaml.safe_dump({**settings, "tables": {
            "customers": {"file": "customers.parquet"}, "transactions": {"file": file}}}))
        out.append(raw / name)
    return out


@pytest.mark.parametrize("case", ["negative", "unknown", "late", "total", "empty_id", "text"])
def test_engine_checks_raise_the_pandas_paths_errors(case, tmp_path):
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
                              "start_date": pd.to_datetime(["2022-01-01"] * 3),
                              "end_date": pd.to_datetime([None, "2023-05-01", None])})
    tx = pd.DataFrame({"customer_id": ["a", "b", "c", "a", "c"],
                       "date": pd.to_datetime(["2022-02-01", "2022-03-01", "2022-04-01",
                                               "2022-05-01", "2022-06-01"]),
                       "amount": [10.0, 20.0, 5.0, 7.5, 1.0]})
    if case == "negative":
        tx.loc[[1, 3], "amount"] = [-2.0, -3.5]
    elif case == "unknown":
        tx.loc[[2, 4], "customer_id"] = ["zz", "yy"]
    elif case == "late":
        tx.loc[4, "date"] = pd.Timestamp("2024-01-01")
    elif case == "total":
        tx.loc[3, "customer_id"] = "合计"
    elif case == "empty_id":
        tx.loc[2, "customer_id"] = None
    elif case == "text":
        tx["amount"] = tx["amount"].astype(str)
        tx.loc[[0, 3], "amount"] = ["¥10", "7,5"]
    p, e = _bad_source(tmp_path, customers, tx, observation_end="2023-12-31")
    with pytest.raises(ChurnDataError) as expected:
        load(p)
    with pytest.raises(ChurnDataError) as got:
        load(e, processed_dir=tmp_path / "out")
    assert str(got.value) == str(expected.value)
    assert got.value.rows == expected.value.rows and got.value.table == "transactions"
    assert not (tmp_path / "out" / "transactions.parquet").exists()


def test_personal_columns_of_a_heavy_table_are_found_by_content_and_dropped(tmp_path):
    n = 50_000
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(500)],
                              "start_date": pd.Timestamp("2022-01-01"), "end_date": pd.NaT})
    tx = pd.DataFrame({"customer_id": [f"c{i % 500}" for i in range(n)],
                       "date": pd.Timestamp("2022-06-01") + pd.to_timedelta(
                           [i % 300 for i in range(n)], unit="D"),
                       "amount": [float(i % 97) for i in range(n)],
                       "detail": [f"call 1381234{i % 10000:04d}" for i in range(n)],
                       "store": [f"S{i % 40}" for i in range(n)]})
    _, e = _bad_source(tmp_path, customers, tx, observation_end="2023-12-31")
    data = load(e, processed_dir=tmp_path / "out")
    assert data.meta["personal_data"]["dropped"] == [
        {"table": "transactions", "column": "detail", "reason": "phone numbers",
         "found_by": "values"}]
    written = pd.read_parquet(tmp_path / "out" / "transactions.parquet")
    assert list(written.columns) == ["customer_id", "date", "amount", "store"]
    assert len(written) == n and written["amount"].sum() == sum(float(i % 97) for i in range(n))


def test_credentials_come_from_the_environment_and_are_never_shown(tmp_path, monkeypatch,
                                                                    capsys, caplog):
    monkeypatch.setenv("CHURN_TEST_PW", SECRET)
    monkeypatch.setenv("PGPASSWORD", SECRET)
    url = "postgres://analyst:${CHURN_TEST_PW}@127.0.0.1:9/crm"
    assert redact_url(url) == url and SECRET in expand_url(url)
    # a literal password in params is refused without being echoed
    with pytest.raises(ChurnDataError) as literal:
        expand_url(f"postgres://analyst:{SECRET}@db.example/crm")
    assert SECRET not in str(literal.value) and "analyst:***@db.example" in str(literal.value)
    monkeypatch.delenv("NOT_SET_PW", raising=False)
    with pytest.raises(ChurnDataError, match="environment variable NOT_SET_PW"):
        expand_url("postgres://analyst:${NOT_SET_PW}@db/crm")
    # a failed connection (or a missing driver) names the URL as written, not the password
    for target in (url, f"sqlite:///{tmp_path}/x.sqlite?password={SECRET}",
                   f"postgres://analyst:{SECRET}@db.example/crm"):
        with pytest.raises(ChurnDataError) as failed:
            load(target, processed_dir=tmp_path / "out")
        assert SECRET not in str(failed.value) and "***" not in SECRET
    assert redact_url(f"sqlite:///x.sqlite?password={SECRET}") == "sqlite:///x.sqlite?password=***"
    # a source read with the password in the environment writes it nowhere
    db = tmp_path / "shop.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE customers AS SELECT * FROM (VALUES ('a', DATE '2022-01-01', "
                    "NULL::DATE), ('b', DATE '2022-02-01', DATE '2023-01-01')) "
                    "t(customer_id, start_date, end_date)")
        con.execute("CREATE TABLE transactions AS SELECT * FROM (VALUES ('a', DATE '2022-03-01', "
                    "1.0), ('b', DATE '2022-04-01', 2.0)) t(customer_id, date, amount)")
    data = load(f"duckdb://{db}", processed_dir=tmp_path / "p")
    data.write(tmp_path / "p")
    assert len(data.transactions) == 2 and data.observation_end == pd.Timestamp("2023-01-01")
    shown = capsys.readouterr()
    for text in [shown.out, shown.err, caplog.text, json.dumps(data.meta, default=str),
                 *[p.read_bytes().decode("latin-1") for p in (tmp_path / "p").iterdir()]]:
        assert SECRET not in text
    assert set(TABLES) >= {p.stem for p in (tmp_path / "p").glob("*.parquet")}


def test_params_refuse_a_password_in_the_url_without_showing_it(tmp_path):
    from churn_research.runner.params import check_params

    spec = {"source": f"postgres://analyst:{SECRET}@db.example/crm",
            "source_options": {"tables": {"customers": "crm.customers"}}}
    problems = check_params("shop", spec, root=tmp_path, check_files=True)
    assert [(p.key, p.message) for p in problems] == [
        ("source", "the connection URL postgres://analyst:***@db.example/crm holds a password.")]
    assert SECRET not in problems[0].fix and "${PGPASSWORD}" in problems[0].fix
    ok = {**spec, "source": "postgres://analyst:${PGPASSWORD}@db.example/crm"}
    assert check_params("shop", ok, root=tmp_path, check_files=True) == []


def test_coded_values_and_chinese_dates_of_csv_files_are_read_as_by_the_pandas_path(tmp_path):
    raw = tmp_path / "raw"
    (raw / "tickets").mkdir(parents=True)
    pd.DataFrame({"客户编号": ["a", "b", "c"], "开户日期": ["2022年1月5日", "2022年2月1日", "2022年3月9日"],
                  "销户日期": ["", "2023年5月1日", ""]}).to_csv(raw / "客户.csv", index=False)
    tickets = pd.DataFrame({"客户编号": ["a", "b", "c", "a", "b"],
                            "日期": ["2022年2月1日", "2022年3月1日", "2022年4月1日", "2022年5月1日",
                                   "2022年6月1日"],
                            "工单类型": ["投诉", "咨询", "报修", "售后", "投诉"],
                            "是否解决": ["是", "否", "是", "是", "否"]})
    tickets.to_csv(raw / "工单.csv", index=False)
    tickets.iloc[:2].to_csv(raw / "tickets" / "part-1.csv", index=False)
    tickets.iloc[2:].to_csv(raw / "tickets" / "part-2.csv", index=False)
    columns = {"客户编号": "customer_id", "日期": "date", "工单类型": "kind", "是否解决": "resolved"}
    for name, file in (("p.yaml", "工单.csv"), ("e.yaml", "tickets/")):
        (raw / name).write_text(yaml.safe_dump({
            "observation_end": "2023-12-31", "values": {"tickets.kind": {"售后": "technical"}},
            "tables": {"customers": {"file": "客户.csv", "columns": {
                "客户编号": "customer_id", "开户日期": "start_date", "销户日期": "end_date"}},
                "tickets": {"file": file, "columns": columns}}}, allow_unicode=True))
    load(raw / "p.yaml").write(tmp_path / "a")
    load(raw / "e.yaml", processed_dir=tmp_path / "b").write(tmp_path / "b")
    _same_processed(tmp_path / "a", tmp_path / "b")
    got = pd.read_parquet(tmp_path / "b" / "tickets.parquet")
    assert got["kind"].tolist() == ["complaint", "inquiry", "technical", "technical", "complaint"]
    assert got["resolved"].tolist() == [True, False, True, True, False]
    assert got["date"].dt.strftime("%Y-%m-%d").tolist()[:2] == ["2022-02-01", "2022-03-01"]


def test_profile_of_tables_on_disk_equals_the_profile_in_memory(tmp_path):
    """00_data profiles tables an engine source left on disk by DuckDB over their Parquet files
    (sources.profile.table_stats): the same rows, customers, date ranges, missing shares and
    left-truncation note as from the frames, NaN in a float column counted as missing."""
    from churn_research.sources import profile

    data = load("synthetic", n_customers=800, random_state=5)
    tx = data.transactions.copy()
    tx.loc[tx.index[::7], "amount"] = np.nan  # float NaN: missing in pandas and in the file
    data = data.replace(transactions=tx)
    data.write(tmp_path)
    disk = ChurnData.read(tmp_path)
    assert disk.unread_path("transactions") == tmp_path / "transactions.parquet"
    on_disk, in_memory = profile.table_stats(disk), profile.table_stats(data)
    assert disk.unread_path("transactions") is not None  # profiled without being read
    assert on_disk["transactions"]["missing"]["amount"] == len(tx.index[::7]) > 0
    assert on_disk == in_memory
    pd.testing.assert_frame_equal(profile.table_profile(disk, on_disk), profile.table_profile(data))
    pd.testing.assert_frame_equal(profile.missingness(disk, stats=on_disk), profile.missingness(data))
    assert profile.truncation_note(disk, on_disk) == profile.truncation_note(data) is not None
