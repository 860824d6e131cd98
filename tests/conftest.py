"""Shared fixtures: a valid hand-built dataset written as CSV files, and small synthetic data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def write_tables(directory: Path, tables: dict[str, pd.DataFrame], **csv_options) -> Path:
    """Write tables as ``<name>.csv`` into ``directory`` (the user-file layout)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(directory / f"{name}.csv", index=False, **csv_options)
    return directory


@pytest.fixture
def valid_tables() -> dict[str, pd.DataFrame]:
    """A tiny, valid dataset in the data model (as raw strings, like a CSV export)."""
    customers = pd.DataFrame({
        "customer_id": ["A1", "A2", "A3", "A4"],
        "start_date": ["2023-01-15", "2023-02-01", "2023-03-10", "2024-01-05"],
        "end_date": ["2023-09-30", "", "2024-02-29", ""],
        "churn_reason": ["price", "", "competitor", ""],
        "name": ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
        "email": ["ada@example.com", "alan@example.com", "grace@example.com", "ed@example.com"],
    })
    transactions = pd.DataFrame({
        "customer_id": ["A1", "A1", "A2", "A3", "A4"],
        "date": ["2023-02-01", "2023-03-01", "2023-02-10", "2023-04-01", "2024-02-01"],
        "amount": [10.0, 12.5, 30.0, 0.0, 8.0],
    })
    tickets = pd.DataFrame({"customer_id": ["A1", "A3"], "date": ["2023-05-01", "2023-06-01"],
                            "kind": ["complaint", "inquiry"]})
    surveys = pd.DataFrame({"customer_id": ["A2", "A3"], "date": ["2023-05-01", "2023-06-01"],
                            "csat": [4, 2], "nps": [9, 3]})
    events = pd.DataFrame({"date": ["2023-07-01"], "name": ["rename"],
                           "description": ["Company renamed"]})
    return {"customers": customers, "transactions": transactions, "tickets": tickets,
            "surveys": surveys, "events": events}


@pytest.fixture
def valid_dir(tmp_path, valid_tables) -> Path:
    return write_tables(tmp_path / "valid", valid_tables)


def pytest_collection_modifyitems(config, items):
    """Tests marked notebooks, subprocess or million are slow too: `make test-fast` runs
    ``-m "not slow"``, so one marker is enough."""
    for item in items:
        if any(item.get_closest_marker(m) for m in ("notebooks", "subprocess", "million")):
            item.add_marker(pytest.mark.slow)
    # the notebook classes are the longest units of work: schedule them first (make test
    # distributes by class/module with --dist loadscope)
    items.sort(key=lambda item: item.get_closest_marker("notebooks") is None)
