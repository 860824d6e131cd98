"""The engine on a SQL warehouse: PostgreSQL, started without root from the ``pgserver`` wheel
(the dev environment's ``warehouse`` extra), holding the synthetic fixture. The engine's churn
tables there equal DuckDB's (counts exactly, rates to 1e-12), and ``source: postgres://...``
(the password from the environment) gives the pandas path's processed data.

One server serves the module (a temporary data directory, a Unix socket, no TCP port) and is
stopped at its end. Skipped only when the ``warehouse`` extra is not installed.
"""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest
from test_engine import CASES as ENGINE_CASES
from test_sources_tables import _same_processed

from churn_research import load
from churn_research.model import ChurnData
from churn_research.sources import engine

pytestmark = pytest.mark.slow

COUNTS = ["at_risk", "new", "returned", "churned", "churned_new", "at_end", "exposed",
          "numerator", "denominator"]
RATES = ["churn_rate", "churn_ci_low", "churn_ci_high", "retention_rate", "retention_ci_low",
         "retention_ci_high"]


@pytest.fixture(scope="module")
def data() -> ChurnData:
    return load("synthetic", n_customers=2000, random_state=18)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pgserver = pytest.importorskip("pgserver", reason="pgserver is not installed (the "
                                                      "warehouse extra)")
    pytest.importorskip("psycopg", reason="psycopg is not installed (the warehouse extra)")
    srv = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="delete")
    yield srv
    srv.cleanup()


@pytest.fixture(scope="module")
def pg(server, data):
    """The synthetic fixture as tables of the server (customers, transactions)."""
    con = engine.connect(server.get_uri())
    for name in ("customers", "transactions"):
        con.create_table(name, getattr(data, name), overwrite=True)
    yield con
    con.disconnect()


def test_the_server_runs_without_root_or_tcp(server, pg, data):
    assert pg.name == "postgres"
    assert "host=" in server.get_uri() and "@localhost" not in server.get_uri()
    assert int(pg.table("transactions").count().execute()) == len(data.transactions)


# the synthetic cases of the DuckDB-vs-pandas parity tests ("": contracts, "_log": a purchase log)
CASES = [(name.removeprefix("synthetic"), options) for name, options in ENGINE_CASES
         if name.startswith("synthetic")]


@pytest.mark.parametrize(("kind", "options"), CASES,
                         ids=[f"{n or 'contracts'}-{'-'.join(f'{k}={v}' for k, v in o.items())}"
                              for n, o in CASES])
def test_churn_table_on_postgres_equals_duckdb(pg, data, kind, options):
    settings = {"observation_end": data.observation_end, "records_start": data.records_start,
                "inactivity_days": data.inactivity_days}
    duck = engine.from_data(data)
    post = engine.Tables(pg, "customers", "transactions", **settings)
    if kind == "_log":
        duck = dataclasses.replace(duck, kind="non-contractual")
        post = dataclasses.replace(post, kind="non-contractual")
    expected, got = engine.churn_table(duck, **options), engine.churn_table(post, **options)
    assert list(got.columns) == list(expected.columns) and len(got) == len(expected) > 0
    for col in expected.columns:
        if col in COUNTS:
            assert got[col].tolist() == expected[col].tolist(), col
        elif col in RATES:
            assert (got[col] - expected[col]).abs().max() <= 1e-12, col
        else:
            pd.testing.assert_series_equal(got[col], expected[col], obj=col)
    assert got.attrs["engine"] == "postgres"


def test_a_postgres_url_source_gives_the_pandas_paths_processed_data(server, pg, data,
                                                                     tmp_path, monkeypatch):
    # the password comes from the environment (the server trusts its socket and ignores it)
    monkeypatch.setenv("CHURN_PG_PASSWORD", "s3cr3t-Pa55word")
    uri = server.get_uri().replace("postgres:@", "postgres:${CHURN_PG_PASSWORD}@")
    settings = {"observation_end": str(data.observation_end.date()),
                "records_start": str(data.records_start.date())}
    got = load(uri, processed_dir=tmp_path / "b", **settings)
    got.write(tmp_path / "b")
    data.replace(tickets=None, surveys=None, events=None, campaigns=None).write(tmp_path / "a")
    assert got.meta["engine"]["backend"] == "postgres" and got.meta["source"] == uri
    _same_processed(tmp_path / "a", tmp_path / "b", meta=False, ordered=False)
    assert "s3cr3t" not in json.dumps(got.meta, default=str)
