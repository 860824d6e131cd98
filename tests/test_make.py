"""What `make reports` rebuilds when parameters change, and what it prints.

A stage's report depends on its parameters stamp ``build/params/<dataset>/<stage>.json``
(:mod:`churn_research.runner.stamps`), rewritten only when what that stage receives changes; the
console shows one line per stage start and end, progress only on a terminal, and a total.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tqdm import tqdm

from churn_research.runner.params import ParamsError, reported_parameters
from churn_research.runner.pipeline import duration, progress_bar, show_progress, total_line
from churn_research.runner.registry import stage_names
from churn_research.runner.stamps import stamp_path, write_stamps

ROOT = Path(__file__).resolve().parents[1]
ALL = stage_names()
WATCHLIST = "    watchlist_size: 100 "


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """The notebooks and params files of the project, in a temporary root."""
    monkeypatch.delenv("REPORT_LANG", raising=False)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copytree(ROOT / "params", tmp_path / "params")
    return tmp_path


def _edit(root: Path, old: str, new: str, dataset: str = "synthetic") -> None:
    path = root / "params" / f"{dataset}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# the stamps
# ---------------------------------------------------------------------------------------------
def test_a_stamp_holds_what_its_stage_receives(project):
    assert write_stamps("synthetic", root=project) == ALL
    stamp = json.loads(stamp_path("synthetic", "40_segments", root=project).read_text())
    assert stamp == reported_parameters("synthetic", "40_segments", root=project)
    assert stamp["watchlist_size"] == 100 and stamp["language"] == "en"
    assert stamp["tier_rules"]["new_days"] == 180 and stamp["dataset"] == "synthetic"
    assert "processed_dir" not in stamp and "output_json" not in stamp
    assert "watchlist_size" not in json.loads(stamp_path("synthetic", "50_clv", root=project).read_text())


@pytest.mark.parametrize(("old", "new", "changed"), [
    (WATCHLIST, "    watchlist_size: 50 ", ["40_segments"]),
    ("tier_rules: {new_days: 180,", "tier_rules: {new_days: 120,", ["40_segments", "50_clv", "60_retention"]),
    ("windows: {window_days: 365,", "windows: {window_days: 300,", ["40_segments", "50_clv", "60_retention"]),
    ("  n_customers: 5000", "  n_customers: 4000", ["00_data"]),
    ("title: ", "language: zh\ntitle: ", ALL),
    ("# Common keys go to every stage", "# Common keys (a comment) go to every stage", []),
])
def test_only_the_stamps_of_stages_whose_parameters_changed_are_rewritten(project, old, new, changed):
    write_stamps("synthetic", root=project)
    before = {s: stamp_path("synthetic", s, root=project).stat().st_mtime_ns for s in ALL}
    _edit(project, old, new)
    assert write_stamps("synthetic", root=project) == changed
    after = {s: stamp_path("synthetic", s, root=project).stat().st_mtime_ns for s in ALL}
    assert [s for s in ALL if after[s] != before[s]] == changed


def test_report_lang_rewrites_the_stamps_whose_language_it_changes(project, monkeypatch):
    write_stamps("synthetic", root=project)
    monkeypatch.setenv("REPORT_LANG", "en")  # the dataset's own language: nothing to redo
    assert write_stamps("synthetic", root=project) == []
    monkeypatch.setenv("REPORT_LANG", "zh")
    assert write_stamps("synthetic", root=project) == ALL
    assert json.loads(stamp_path("synthetic", "10_indicators", root=project).read_text())["language"] == "zh"
    monkeypatch.delenv("REPORT_LANG")
    assert write_stamps("synthetic", root=project) == ALL


def test_a_params_file_that_fails_its_check_writes_no_stamp(project):
    write_stamps("synthetic", root=project)
    before = {s: stamp_path("synthetic", s, root=project).read_text() for s in ALL}
    _edit(project, WATCHLIST, "    watchlist_sise: 50 ")
    with pytest.raises(ParamsError) as err:
        write_stamps("synthetic", root=project)
    assert err.value.key == "stages.40_segments.watchlist_sise"
    assert str(err.value).startswith("params/synthetic.yaml: `stages.40_segments.watchlist_sise`: "
                                     "unknown key of this stage. Did you mean `watchlist_size`?")
    assert {s: stamp_path("synthetic", s, root=project).read_text() for s in ALL} == before


def test_a_stamp_takes_the_time_of_a_report_rendered_with_the_same_parameters(project):
    """Creating the stamps (this Makefile on an existing tree, `rm -rf build`) or undoing an
    edit re-renders nothing whose provenance shows it was rendered with those parameters."""
    reports = project / "reports" / "synthetic"
    reports.mkdir(parents=True)
    made = time.time_ns() - 3_600 * 10**9
    for stage in ("20_causes", "40_segments"):
        params = reported_parameters("synthetic", stage, root=project)
        if stage == "40_segments":
            params["watchlist_size"] = 10  # rendered with other parameters
        (reports / f"{stage}.html").write_text("<html></html>")
        (reports / f"{stage}.provenance.json").write_text(json.dumps({"parameters": params}))
        os.utime(reports / f"{stage}.html", ns=(made, made))
    write_stamps("synthetic", root=project)
    assert stamp_path("synthetic", "20_causes", root=project).stat().st_mtime_ns == made
    assert stamp_path("synthetic", "40_segments", root=project).stat().st_mtime_ns > made
    # an edit, then undone: the stamp is the report's again (only the edit made it newer)
    _edit(project, "    n_repeats: 5 ", "    n_repeats: 6 ")
    assert write_stamps("synthetic", root=project) == ["20_causes"]
    assert stamp_path("synthetic", "20_causes", root=project).stat().st_mtime_ns > made
    _edit(project, "    n_repeats: 6 ", "    n_repeats: 5 ")
    assert write_stamps("synthetic", root=project) == ["20_causes"]
    assert stamp_path("synthetic", "20_causes", root=project).stat().st_mtime_ns == made


# ---------------------------------------------------------------------------------------------
# the console
# ---------------------------------------------------------------------------------------------
class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(("tty", "environ", "shown"), [
    (True, {}, True),
    (False, {}, False),                                        # piped, a file, a CI log
    (True, {"CI": "true"}, False),
    (True, {"TERM": "dumb"}, False),
    (True, {"MAKEFLAGS": " -j2 --jobserver-auth=3,4"}, False),  # two stages side by side
    (True, {"MAKEFLAGS": "s -j"}, False),
    (True, {"MAKEFLAGS": "s -j1"}, True),
    (True, {"MAKEFLAGS": "s -- DATASET=synthetic"}, True),
])
def test_progress_is_shown_on_a_terminal_only(tty, environ, shown):
    assert show_progress(_Stream(tty), environ) is shown


def test_the_progress_line_says_cell_n_of_total(monkeypatch):
    for var in ("CI", "MAKEFLAGS", "TERM"):
        monkeypatch.delenv(var, raising=False)
    assert progress_bar("synthetic", "10_indicators", _Stream(False)) is False
    stream = _Stream(True)
    options = progress_bar("synthetic", "10_indicators", stream)
    assert options["file"] is stream and options["leave"] is False
    line = tqdm.format_meter(n=12, total=40, elapsed=3.0, bar_format=options["bar_format"])
    assert line == "synthetic/10_indicators: cell 12 of 40"


@pytest.mark.parametrize(("seconds", "text"), [
    (0.04, "0.0 s"), (12.34, "12.3 s"), (59.9, "59.9 s"), (60.2, "1 min 0 s"),
    (192.4, "3 min 12 s"), (3_725, "1 h 2 min"),
])
def test_durations_read_as_a_person_would_say_them(seconds, text):
    assert duration(seconds) == text


def test_the_total_line_counts_the_stages_rendered_in_this_run(tmp_path):
    reports = tmp_path / "reports"
    for ds in ("synthetic", "telco"):
        (reports / ds).mkdir(parents=True)
    since = 1_000_000.0
    for ds, stage, when in [("synthetic", "00_data", since - 5), ("synthetic", "10_indicators", since + 1),
                            ("synthetic", "20_causes", since + 2), ("telco", "00_data", since + 3)]:
        prov = reports / ds / f"{stage}.provenance.json"
        prov.write_text("{}")
        os.utime(prov, (when, when))
    assert (total_line(since, root=tmp_path, now=since + 192.4)
            == "make reports: 3 stages rendered in 3 min 12 s; reports/index.html")
    assert (total_line(since + 2.5, root=tmp_path, now=since + 10)
            == "make reports: 1 stage rendered in 7.5 s; reports/index.html")
    assert (total_line(since + 60, root=tmp_path, now=since + 61)
            == "make reports: no stage rendered; reports/index.html rebuilt in 1.0 s")


# ---------------------------------------------------------------------------------------------
# make itself (dry runs on a copy of the project)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """A copy of the project (benchmarks.project: the copy's package first on PYTHONPATH) whose
    synthetic reports are up to date (empty files newer than everything they depend on)."""
    if subprocess.run(["make", "-q", ".venv/.installed"], cwd=ROOT).returncode != 0:
        pytest.skip("the environment stamp is out of date: make would rebuild .venv")
    from benchmarks import project as bench

    dest = bench.copy_project(tmp_path_factory.mktemp("make") / "project")
    yield dest, bench.make_env(dest)
    shutil.rmtree(dest, ignore_errors=True)


def _up_to_date(dest: Path, env: dict[str, str]) -> None:
    """Write the stamps, then date every file before the reports (00_data first, the index last)."""
    subprocess.run([".venv/bin/python", "-m", "churn_research.runner.stamps", "synthetic"],
                   cwd=dest, env=env, check=True)
    old = time.time() - 3_000
    for folder, dirs, files in os.walk(dest):
        dirs[:] = [d for d in dirs if d not in (".venv", "reports")]
        for f in files:
            os.utime(Path(folder) / f, (old, old))
    reports = dest / "reports" / "synthetic"
    reports.mkdir(parents=True, exist_ok=True)
    for i, stage in enumerate(ALL):
        (reports / f"{stage}.html").write_text("")
        os.utime(reports / f"{stage}.html", (old + 100 + i, old + 100 + i))
    (dest / "reports" / "index.html").write_text("")
    os.utime(dest / "reports" / "index.html", (old + 200, old + 200))


def _would_render(dest: Path, env: dict[str, str], *args: str) -> list[str]:
    """The stages `make -n reports` would render (the stamps are written: a `+` recipe)."""
    run = subprocess.run(["make", "-n", "-o", ".venv/.installed", "reports", "DATASET=synthetic",
                          *args], cwd=dest, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return re.findall(r"runner run --dataset synthetic --stage (\S+)", run.stdout)


@pytest.mark.subprocess
def test_make_rebuilds_the_stages_whose_parameters_changed(copy):
    dest, env = copy
    params = dest / "params" / "synthetic.yaml"
    original = params.read_text(encoding="utf-8")
    try:
        _up_to_date(dest, env)
        assert _would_render(dest, env) == []
        assert subprocess.run(["make", "-q", "-o", ".venv/.installed", "reports"], cwd=dest,
                              env=env).returncode == 0
        _edit(dest, WATCHLIST, "    watchlist_size: 50 ")
        assert _would_render(dest, env) == ["40_segments"]
        question = {s: subprocess.run(["make", "-q", "-o", ".venv/.installed",
                                       f"reports/synthetic/{s}.html"], cwd=dest, env=env).returncode
                    for s in ("30_survival", "40_segments")}
        assert question == {"30_survival": 0, "40_segments": 1}

        params.write_text(original, encoding="utf-8")
        _up_to_date(dest, env)
        _edit(dest, "windows: {window_days: 365,", "windows: {window_days: 300,")
        assert _would_render(dest, env) == ["50_clv", "40_segments", "60_retention"]

        # 60_retention plans against 10_indicators' churn target: it renders after it, again
        params.write_text(original, encoding="utf-8")
        _up_to_date(dest, env)
        _edit(dest, "    freq: Q  ", "    freq: M  ")
        assert _would_render(dest, env) == ["10_indicators", "60_retention"]

        params.write_text(original, encoding="utf-8")
        _up_to_date(dest, env)
        _edit(dest, "title: ", "language: zh\ntitle: ")
        # every stage: the longest and those 60_retention waits for first, then 40_segments
        # before 20_causes (the Makefile's RUN_ORDER)
        order = _would_render(dest, env)
        assert order == ["00_data", "30_survival", "10_indicators", "50_clv", "40_segments",
                         "20_causes", "60_retention"] and sorted(order) == ALL

        params.write_text(original, encoding="utf-8")
        _up_to_date(dest, env)
        assert _would_render(dest, env, "REPORT_LANG=en") == []
        assert sorted(_would_render(dest, env, "REPORT_LANG=zh")) == ALL
    finally:
        params.write_text(original, encoding="utf-8")


@pytest.mark.subprocess
def test_make_stops_on_a_params_file_that_fails_its_check(copy):
    dest, env = copy
    params = dest / "params" / "synthetic.yaml"
    original = params.read_text(encoding="utf-8")
    try:
        _edit(dest, WATCHLIST, "    watchlist_sise: 50 ")
        run = subprocess.run(["make", "-o", ".venv/.installed", "reports", "DATASET=synthetic"],
                             cwd=dest, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and "runner run" not in run.stdout and run.stdout == ""
        assert run.stderr.startswith("params/synthetic.yaml: `stages.40_segments.watchlist_sise`: "
                                     "unknown key of this stage. Did you mean `watchlist_size`?")
    finally:
        params.write_text(original, encoding="utf-8")


@pytest.mark.subprocess
def test_an_edit_to_a_stage_package_re_renders_the_stages_whose_notebooks_call_it(copy):
    """50_clv and 60_retention call segments (60_retention also clv): an edit there re-renders
    them as well as the package's own stage; an edit to causes re-renders 20_causes only."""
    dest, env = copy
    for path, expected in (("src/churn_research/segments/features.py",
                            ["50_clv", "40_segments", "60_retention"]),
                           ("src/churn_research/clv/contractual.py", ["50_clv", "60_retention"]),
                           ("src/churn_research/causes/importance.py", ["20_causes"])):
        _up_to_date(dest, env)
        os.utime(dest / path, None)  # edited now, after every report
        assert _would_render(dest, env) == expected, path


# what a make run's processes import


@pytest.mark.parametrize("module, absent", [
    # the stage runner renders notebooks; it does not plot or check IRIs (about 3 s of imports)
    ("churn_research.runner.pipeline", ["matplotlib.pyplot", "rfc3987_syntax"]),
    # make runs the stamp writer on every build
    ("churn_research.runner.stamps", ["papermill", "nbconvert", "matplotlib"]),
    # an analysis stage reads its data (read_stage): no validation library, no Spark (~1 s)
    ("churn_research.sources.engine", ["pandera", "pyspark"]),
])
def test_make_processes_import_only_what_they_use(module, absent):
    code = (f"import sys, {module}; "
            f"print(','.join(m for m in {absent!r} if sys.modules.get(m) is not None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.subprocess
@pytest.mark.parametrize("args, jobs", [([], "-j2"), (["-j1"], None)])
def test_make_reports_renders_one_stage_per_core_unless_told(copy, args, jobs):
    """`make reports` runs the independent stages in parallel, as many as the machine has
    cores (JOBS); a -jN on the command line wins."""
    dest, env = copy
    run = subprocess.run(["make", "-p", "-n", "-o", ".venv/.installed", "JOBS=2", *args, "reports"],
                         cwd=dest, env=env, capture_output=True, text=True, timeout=120)
    flags = next(line for line in run.stdout.splitlines() if line.startswith("MAKEFLAGS = "))
    if jobs:
        assert jobs in flags.split()
    else:
        assert "-j2" not in flags.split()
