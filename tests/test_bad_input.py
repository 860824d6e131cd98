"""Bad input gets a clear error (issue 19, parts 2, 4 and 6): each probe a new user's export
could hold raises :class:`ChurnDataError` naming the table or file, the column or key, and the
fix (or, for usable data, a counted warning in ``meta["warnings"]``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from churn_research.model import ChurnDataError
from churn_research.sources import load_directory, load_mapping

CUSTOMERS = ("customer_id,start_date,end_date\n"
             "C1,2023-01-05,2023-06-30\nC2,2023-02-10,\nC3,2023-03-15,2024-02-01\n"
             "C4,2023-04-20,\n")
TX = ("customer_id,date,amount\nC1,2023-02-01,10\nC2,2023-03-01,20\nC3,2023-04-02,5\n"
      "C4,2023-05-03,7\nC2,2024-03-01,8\n")


def _dir(tmp_path: Path, **files: str | bytes) -> Path:
    for name, content in files.items():
        p = tmp_path / name.replace("__", ".")
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return tmp_path


def _error(fn, *args, **kwargs) -> ChurnDataError:
    with pytest.raises(ChurnDataError) as info:
        fn(*args, **kwargs)
    assert type(info.value) is ChurnDataError
    return info.value


# -- part 2: dates --------------------------------------------------------------------------
def test_day_first_dates_all_ambiguous_are_refused_naming_date_format(tmp_path):
    tx = "customer_id,date,amount\nC1,05/02/2023,10\nC2,03/04/2023,20\nC3,02/03/2023,5\n"
    err = _error(load_directory, _dir(tmp_path, customers__csv=CUSTOMERS, transactions__csv=tx))
    assert (err.table, err.column) == ("transactions", "date")
    assert "read both as day/month and as month/day" in str(err)
    assert "date_format: DD/MM/YYYY" in err.fix


def test_mixed_forms_in_one_column_are_refused(tmp_path):
    # a spreadsheet converted the values whose day is <= 12 and left 25/03/2023 as text
    tx = "customer_id,date,amount\nC1,2023-05-02,10\nC2,25/03/2023,20\nC3,2023-03-02,5\n"
    err = _error(load_directory, _dir(tmp_path, customers__csv=CUSTOMERS, transactions__csv=tx))
    assert (err.table, err.column) == ("transactions", "date")
    assert "mixes forms: 1 value(s) such as '25/03/2023'" in str(err)
    assert "row 3 (customer_id=C2)" in err.rows[0]
    assert "date_format: DD/MM/YYYY" in err.fix


def test_two_digit_years_are_refused_and_read_with_date_format(tmp_path):
    tx = "customer_id,date,amount\nC1,05/02/23,10\nC2,13/03/23,20\n"
    d = _dir(tmp_path, customers__csv=CUSTOMERS, transactions__csv=tx)
    err = _error(load_directory, d)
    assert (err.table, err.column) == ("transactions", "date")
    assert "two-digit year" in str(err) and "date_format: DD/MM/YY" in err.fix
    (d / "customers.csv").write_text("customer_id,start_date,end_date\nC1,05/01/23,\n"
                                     "C2,10/02/23,\n", encoding="utf-8")
    data = load_directory(d, date_format="DD/MM/YY")
    assert data.transactions["date"].tolist() == [pd.Timestamp("2023-02-05"),
                                                  pd.Timestamp("2023-03-13")]


def test_customers_day_first_settled_by_the_other_date_column(tmp_path):
    # end_date's 25/06 settles day/month for start_date too: no "end_date before start_date"
    cust = "customer_id,start_date,end_date\nC1,05/02/2023,25/06/2023\nC2,03/04/2023,\n"
    data = load_directory(_dir(tmp_path, customers__csv=cust))
    assert data.customers["start_date"].tolist()[:2] == [pd.Timestamp("2023-02-05"),
                                                         pd.Timestamp("2023-04-03")]


def test_a_typo_far_in_the_future_is_refused_unless_observation_end_is_set(tmp_path):
    tx = TX + "C4,2052-05-03,7\n"
    d = _dir(tmp_path, customers__csv=CUSTOMERS, transactions__csv=tx)
    err = _error(load_directory, d)
    assert (err.table, err.column) == ("transactions", "date")
    assert "1 date(s) from 2052-05-03" in str(err) and "row 7 (customer_id=C4)" in err.rows[0]
    assert "observation_end:" in err.fix
    err = _error(load_directory, d, observation_end="2024-12-31")
    assert "1 date(s) after observation_end 2024-12-31" in str(err)


def test_timezone_aware_and_naive_timestamps_keep_their_local_time(tmp_path):
    tx = ("customer_id,date,amount\nC1,2023-02-01T10:00:00+08:00,10\nC2,2023-03-01 09:30,20\n"
          "C3,2023-04-02T23:30:00Z,5\n")
    data = load_directory(_dir(tmp_path, customers__csv=CUSTOMERS, transactions__csv=tx))
    assert data.transactions["date"].tolist() == [
        pd.Timestamp("2023-02-01 10:00"), pd.Timestamp("2023-03-01 09:30"),
        pd.Timestamp("2023-04-02 23:30")]


# -- part 4: wrong data accepted -------------------------------------------------------------
def test_missing_start_dates_are_refused(tmp_path):
    cust = CUSTOMERS.replace("C2,2023-02-10,", "C2,,")
    err = _error(load_directory, _dir(tmp_path, customers__csv=cust))
    assert (err.table, err.column) == ("customers", "start_date")
    assert "1 of 4 customer(s) have no start_date" in str(err)
    assert err.rows == ["row 3 (customer_id=C2)"] and "fill in the start dates" in err.fix


def test_an_excel_total_row_is_not_a_customer(tmp_path):
    cust = CUSTOMERS + "合计,,\n"
    err = _error(load_directory, _dir(tmp_path, customers__csv=cust))
    assert (err.table, err.column) == ("customers", "customer_id")
    assert "summary row" in str(err) and "delete the total/summary row" in err.fix
    tx = TX + "Total,,50\n"
    err = _error(load_directory, _dir(tmp_path, customers__csv=CUSTOMERS, transactions__csv=tx))
    assert (err.table, err.column, err.rows) == ("transactions", "customer_id",
                                                 ["row 7 (customer_id=Total)"])


def test_non_contractual_without_transactions_is_refused(tmp_path):
    cust = "customer_id,start_date\nC1,2023-01-05\nC2,2023-02-10\n"
    err = _error(load_directory, _dir(tmp_path, customers__csv=cust), kind="non-contractual")
    assert (err.table, err.column) == ("transactions", "date")
    assert "0% churn" in str(err) and "kind: contractual" in err.fix


def test_non_contractual_with_file_end_dates_is_refused(tmp_path):
    d = _dir(tmp_path, customers__csv=CUSTOMERS, transactions__csv=TX)
    err = _error(load_directory, d, kind="non-contractual")
    assert (err.table, err.column) == ("customers", "end_date")
    assert "2 customer(s) have an end_date" in str(err)
    assert "kind: contractual" in err.fix and "null" in err.fix


def test_transactions_outside_the_customer_span_are_counted_warnings(tmp_path):
    tx = TX + "C1,2022-12-01,3\nC1,2023-09-01,4\nC1,2023-10-01,4\n"
    data = load_directory(_dir(tmp_path, customers__csv=CUSTOMERS, transactions__csv=tx))
    assert data.meta["warnings"] == [
        {"table": "transactions", "column": "date", "rows": 1,
         "what": "before the customer's start_date"},
        {"table": "transactions", "column": "date", "rows": 2,
         "what": "after the customer's end_date"}]


def test_a_repeated_header_is_refused_not_renamed(tmp_path):
    tx = "customer_id,date,amount,amount\nC1,2023-02-01,10,11\n"
    err = _error(load_directory, _dir(tmp_path, customers__csv=CUSTOMERS, transactions__csv=tx))
    assert (err.table, err.column) == ("transactions", "amount")
    assert "transactions.csv has the column header 'amount' more than once" in str(err)
    assert "amount.1" in err.fix


def test_a_data_file_the_directory_loader_does_not_know_is_refused(tmp_path):
    err = _error(load_directory, _dir(tmp_path, customers__csv=CUSTOMERS, orders__csv=TX))
    assert "['orders.csv']" in str(err)
    assert "orders.csv -> transactions.csv" in err.fix and "tables: transactions" in err.fix


# -- part 6: raw exceptions ------------------------------------------------------------------
def test_an_empty_file(tmp_path):
    err = _error(load_directory, _dir(tmp_path, customers__csv=CUSTOMERS, transactions__csv=""))
    assert err.table == "transactions" and "transactions.csv is empty (0 bytes)" in str(err)
    assert "export the table again" in err.fix


def test_a_ragged_row_names_file_and_line(tmp_path):
    cust = CUSTOMERS + "C5,2023-05-01,,extra\n"
    err = _error(load_directory, _dir(tmp_path, customers__csv=cust))
    assert err.table == "customers"
    assert "line 6 of customers.csv has 4 fields where the header has 3" in str(err)
    assert "`sep:`" in err.fix


def _mapping(tmp_path: Path, text: str) -> Path:
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    p = tmp_path / "map.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_mapping_yaml_syntax_error_names_the_line(tmp_path):
    p = _mapping(tmp_path, "tables:\n  customers:\n    file: c.csv\n   columns: {a: b\n")
    err = _error(load_mapping, p)
    assert "map.yaml is not valid YAML at line 4" in str(err) and "indentation" in err.fix


def test_a_mapped_table_without_file(tmp_path):
    p = _mapping(tmp_path, "tables:\n  customers:\n    columns: {id: customer_id}\n")
    err = _error(load_mapping, p)
    assert (err.table, err.column) == ("customers", "file")
    assert "has no `file:`" in str(err) and "add `file:" in err.fix


def test_an_unknown_encoding_name(tmp_path):
    p = _mapping(tmp_path, "encoding: gb-2312x\ntables:\n  customers:\n    file: c.csv\n")
    err = _error(load_mapping, p)
    assert err.table == "customers"
    assert "unknown encoding name 'gb-2312x' for c.csv" in str(err) and "`encoding:`" in err.fix


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_delimiters_are_detected(tmp_path, sep):
    d = _dir(tmp_path, customers__csv=CUSTOMERS.replace(",", sep),
             transactions__csv=TX.replace(",", sep))
    data = load_directory(d)
    assert len(data.customers) == 4 and data.transactions["amount"].sum() == 50


def test_an_xlsx_in_a_mapping_is_read_as_a_workbook_whatever_its_name(tmp_path):
    df = pd.read_csv(pd.io.common.StringIO(CUSTOMERS), dtype=str)
    df.to_excel(tmp_path / "c.xlsx", index=False)
    (tmp_path / "c.xlsx").rename(tmp_path / "c_export.csv")  # an .xlsx saved under a CSV name
    p = tmp_path / "map.yaml"
    p.write_text("tables:\n  customers:\n    file: c_export.csv\n", encoding="utf-8")
    data = load_mapping(p)
    assert data.customers["customer_id"].tolist() == ["C1", "C2", "C3", "C4"]


def test_two_source_columns_mapped_onto_one_name(tmp_path):
    p = _mapping(tmp_path, "tables:\n  customers:\n    file: c.csv\n"
                           "    columns: {start_date: end_date}\n")
    err = _error(load_mapping, p)
    assert (err.table, err.column) == ("customers", "end_date")
    assert "two columns of c.csv end up named 'end_date'" in str(err)
    assert "map only one source column" in err.fix


def test_warnings_survive_processed_data_and_show_in_00_data(tmp_path):
    from churn_research.i18n import language, set_language
    from churn_research.model import ChurnData
    from churn_research.narrate.data import warnings_text
    from churn_research.sources.profile import data_warnings, warnings_view

    tx = TX + "C1,2022-12-01,3\nC1,2023-09-01,4\nC1,2023-10-01,4\n"
    (tmp_path / "raw").mkdir()
    data = load_directory(_dir(tmp_path / "raw", customers__csv=CUSTOMERS, transactions__csv=tx))
    back = ChurnData.read(data.write(tmp_path / "processed"))
    warn = data_warnings(back)
    assert warn["rows"].tolist() == [1, 2]
    before = language()
    try:
        set_language("en")
        assert warnings_text(warn).startswith("The loader kept 3 rows that look wrong")
        set_language("zh")
        html = warnings_view(warn).to_html()
        assert "早于客户的开始日期" in html and "受影响行数" in html
        assert warnings_text(warn).startswith("加载时保留了 3 行")
    finally:
        set_language(before)
