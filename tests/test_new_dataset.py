"""`churn-research new-dataset`: a params file and a mapping template from a user's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from churn_research.runner.newdataset import new_dataset
from churn_research.runner.pipeline import main
from churn_research.sources.chinese_export import write_export
from churn_research.sources.files import load_mapping
from churn_research.sources.scaffold import detect_encoding, recognise
from churn_research.sources.synthetic import generate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root(tmp_path):
    """A project root holding the notebooks (the params schema) and an empty params/."""
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    (tmp_path / "params").mkdir()
    return tmp_path


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A small Chinese CRM export and its shipped mapping (moved out of the directory)."""
    folder = tmp_path_factory.mktemp("zh")
    mapping = write_export(generate(n_customers=300, random_state=0), folder / "export")
    shipped = folder / "shipped.yaml"
    mapping.rename(shipped)
    return folder / "export", shipped


def test_chinese_export_mapping_equals_the_shipped_one_without_personal_data(root, export):
    raw = root / "data" / "raw" / "zh"
    shutil.copytree(export[0], raw)
    out: list[str] = []
    params, mapping = new_dataset("zh", root=root, echo=out.append)
    shipped = yaml.safe_load(export[1].read_text(encoding="utf-8"))
    made = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    assert made["encoding"] == "gb18030" and made["kind"] == "contractual"
    assert list(made["tables"]) == ["customers", "transactions", "tickets", "surveys", "events"]
    personal = {"客户姓名", "手机号", "邮箱"}
    for table, spec in shipped["tables"].items():
        assert made["tables"][table]["file"] == spec["file"]
        expected = {h: (None if h in personal else c) for h, c in spec["columns"].items()}
        assert made["tables"][table]["columns"] == expected
    text = mapping.read_text(encoding="utf-8")
    assert "客户姓名: null                     # personal data (names, found by its header): never loaded" in text
    spec = yaml.safe_load(params.read_text(encoding="utf-8"))
    assert spec["source"] == "data/raw/zh/mapping.yaml" and spec["language"] == "zh"
    assert spec["stages"]["00_data"] == {} and spec["stages"]["20_causes"] is None
    assert "\n# reference: {}" + " " * 22 + "# level each categorical driver is compared with" in \
        params.read_text(encoding="utf-8")
    assert out[0] == "wrote data/raw/zh/mapping.yaml"
    assert out[1] == "  客户.csv: customers, 14 header(s) mapped, 3 personal left out, 0 not recognised"
    assert out[-2:] == ["params/zh.yaml: ok (source: data/raw/zh/mapping.yaml)",
                        "Check the mapping, then: make reports DATASET=zh"]


def test_scaffolded_mapping_loads_the_same_tables(root, export):
    raw = root / "data" / "raw" / "zh"
    shutil.copytree(export[0], raw)
    _, mapping = new_dataset("zh", root=root, echo=lambda _: None)
    shipped = yaml.safe_load(export[1].read_text(encoding="utf-8"))
    text = mapping.read_text(encoding="utf-8").replace(
        "# records_start: 2021-01-01", f"records_start: {shipped['records_start']}")
    mapping.write_text(text, encoding="utf-8")
    shutil.copy(export[1], raw / "shipped.yaml")
    ours, theirs = load_mapping(mapping), load_mapping(raw / "shipped.yaml")
    for table in ("customers", "transactions", "tickets", "surveys", "events"):
        pd.testing.assert_frame_equal(getattr(ours, table), getattr(theirs, table))
    assert len(ours.customers) == 300
    assert ours.meta["personal_data"]["dropped"] == []  # never loaded in the first place


def _telco_like(folder: Path) -> None:
    folder.mkdir(parents=True)
    n = 20
    pd.DataFrame({
        "customerID": [f"{i:04d}-ABCD" for i in range(n)], "gender": ["Female", "Male"] * 10,
        "SeniorCitizen": [0, 1] * 10, "Partner": ["Yes", "No"] * 10, "tenure": range(n),
        "Contract": ["Month-to-month", "One year"] * 10, "MonthlyCharges": [29.85] * n,
        "TotalCharges": [100.0] * n, "Churn": ["No", "Yes"] * 10,
        "x3": [f"+1 555-010-{1000 + i}" for i in range(n)], "Notes": ["called back"] * n,
    }).to_csv(folder / "WA_Fn-UseC_-Telco.csv", index=False)


def test_english_telco_like_headers(root):
    _telco_like(root / "data" / "raw" / "telco_own")
    params, mapping = new_dataset("telco_own", root=root, echo=lambda _: None)
    made = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    assert made["kind"] == "contractual" and made["encoding"] == "utf-8"
    assert made["tables"]["customers"]["columns"] == {
        "customerID": "customer_id", "gender": "gender", "SeniorCitizen": "senior_citizen",
        "Partner": "partner", "Contract": "contract", "MonthlyCharges": "monthly_charges",
        "TotalCharges": "total_charges", "x3": None, "Notes": None}
    text = mapping.read_text(encoding="utf-8")
    assert "x3: null                       # personal data (phone numbers, found by its values)" in text
    assert "Notes: null                    # personal data (free text, found by its header)" in text
    assert "      # tenure: null                 # not recognised: loaded under its own name" in text
    assert ("      # REQUIRED: no header recognised as start_date: map the column that holds it "
            "(`your header: start_date`)") in text
    assert yaml.safe_load(params.read_text(encoding="utf-8"))["language"] == "en"


def test_never_overwrites_without_force(root):
    _telco_like(root / "data" / "raw" / "t")
    (root / "params" / "t.yaml").write_text("source: data/raw/t\n")
    with pytest.raises(SystemExit, match=r"^params/t.yaml already exists: not overwritten \(use "
                                         r"--force to replace it\).$"):
        new_dataset("t", root=root, echo=lambda _: None)
    assert (root / "params" / "t.yaml").read_text() == "source: data/raw/t\n"
    (root / "params" / "t.yaml").unlink()
    (root / "data" / "raw" / "t" / "mapping.yaml").write_text("mine\n")
    with pytest.raises(SystemExit, match=r"^data/raw/t/mapping.yaml already exists"):
        new_dataset("t", root=root, echo=lambda _: None)
    assert not (root / "params" / "t.yaml").exists()
    new_dataset("t", root=root, force=True, echo=lambda _: None)
    assert (root / "data" / "raw" / "t" / "mapping.yaml").read_text().startswith("# t: your files")


def test_missing_directory_and_bad_name(root):
    with pytest.raises(SystemExit, match=r"^data/raw/nothing is not a directory"):
        new_dataset("nothing", root=root, echo=lambda _: None)
    with pytest.raises(SystemExit, match=r"^dataset name '../x'"):
        new_dataset("../x", root=root, echo=lambda _: None)


def test_encodings_and_header_vocabulary(tmp_path):
    (tmp_path / "a.csv").write_bytes("客户编号,开始日期\nK1,2023-01-01\n".encode("gb18030"))
    (tmp_path / "b.csv").write_bytes("客户编号,开始日期\nK1,2023-01-01\n".encode())
    assert detect_encoding(tmp_path / "a.csv") == "gb18030"
    assert detect_encoding(tmp_path / "b.csv") == "utf-8"
    # the export's headers, the report labels and the model's own names, in any case
    assert [recognise(h, "customers") for h in ("开户日期", "开始日期", "Start Date", "startDate",
                                                "客户姓名", "会员等级")] == [
        "start_date", "start_date", "start_date", "start_date", None, None]
    assert recognise("工单类型", "tickets") == "kind"


def test_help_lists_new_dataset(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert ("    new-dataset         scaffold params/NAME.yaml and mapping.yaml from data\n"
            in capsys.readouterr().out)
