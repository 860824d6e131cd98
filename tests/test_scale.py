"""The synthetic base written in chunks (``churn_research.sources.scale``): the data do not
depend on the chunk size, block 0 is the in-memory generator's output for its seed, and the
engine reads the parts in place with the numbers of the pandas path."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_engine import assert_same_table

from churn_research.indicators import churn_table
from churn_research.sources import engine, scale
from churn_research.synthetic import generate

TABLES = ("customers", "transactions", "tickets", "surveys", "events")


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    root = tmp_path_factory.mktemp("chunked")
    one = scale.write_chunked(root / "one", 1000, random_state=3, block_size=250, chunk_size=1000)
    four = scale.write_chunked(root / "four", 1000, random_state=3, block_size=250, chunk_size=250)
    return root, one, four


def test_two_chunk_sizes_give_the_same_data(bases):
    root, one, four = bases
    assert (one["parts"], four["parts"], one["blocks"]) == (1, 4, 4)
    assert one["rows"] == four["rows"] and one["rows"]["customers"] == 1000
    assert len(list((root / "four" / "transactions").glob("part-*.parquet"))) == 4
    a, b = scale.read_chunked(root / "one"), scale.read_chunked(root / "four")
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    assert a.customers["customer_id"].is_unique
    assert a.customers["customer_id"].iloc[[0, 249, 250, 999]].tolist() == [
        "C0000001", "C0000250", "C0000251", "C0001000"]
    assert set(a.transactions["customer_id"]) <= set(a.customers["customer_id"])
    meta = json.loads((root / "four" / "meta.json").read_text())
    assert meta["params"]["n_customers"] == 1000 and meta["params"]["chunk_size"] == 250
    assert meta["observation_end"] == "2025-12-31" and meta["records_start"] == "2021-01-01"


def test_a_block_is_the_generator_with_its_own_seed(bases):
    root, *_ = bases
    a = scale.read_chunked(root / "one")
    block1 = generate(250, random_state=scale.block_seed(3, 1))
    got = a.customers.iloc[250:500].reset_index(drop=True)
    expected = block1.customers.drop(columns=["name", "phone", "email"])
    expected["customer_id"] = [f"C{i:07d}" for i in range(251, 501)]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert scale.block_seed(3, 0) != scale.block_seed(3, 1) != scale.block_seed(4, 1)
    # the personal columns are not written
    assert not {"name", "phone", "email"} & set(a.customers.columns)


def test_engine_reads_the_parts_in_place(bases):
    root, *_ = bases
    data = scale.read_chunked(root / "four")
    src = scale.from_chunked(root / "four")
    assert src.records_start == data.records_start and src.kind == "contractual"
    assert_same_table(churn_table(data, freq="Q", by="plan"),
                      engine.churn_table(src, freq="Q", by="plan"))


def test_chunk_size_must_be_whole_blocks(tmp_path):
    with pytest.raises(ValueError, match=r"chunk_size \(300\) must be a whole number of blocks"):
        scale.write_chunked(tmp_path, 1000, block_size=200, chunk_size=300)
    with pytest.raises(ValueError, match="block 4 is past the end"):
        scale.generate_block(4, block_size=250, n_customers=1000)


@pytest.mark.slow
def test_the_base_is_a_mapping_source(bases, tmp_path):
    """``source: <base>/mapping.yaml`` loads the chunked base through the engine (as 00_data
    does at scale): the same customers and rows as the base itself, heavy tables left on disk."""
    from churn_research import load
    from churn_research.model import ChurnData
    from churn_research.sources.tables import is_engine_source

    root, *_ = bases
    mapping = root / "four" / "mapping.yaml"
    assert is_engine_source(mapping)
    data = load(mapping, processed_dir=tmp_path)
    base = scale.read_chunked(root / "four")
    assert (data.kind, data.observation_end, data.records_start) == (
        base.kind, base.observation_end, base.records_start)
    assert data.unread_path("transactions") == tmp_path / "transactions.parquet"
    data.write(tmp_path)
    back = ChurnData.read(tmp_path)
    for name in ("customers", "transactions", "tickets", "surveys"):
        got = getattr(back, name)
        assert len(got) == len(getattr(base, name)) > 0, name
    pd.testing.assert_series_equal(back.customers["end_date"], base.customers["end_date"],
                                   check_exact=True)
    assert back.transactions["amount"].sum() == pytest.approx(base.transactions["amount"].sum(),
                                                              rel=1e-12)
