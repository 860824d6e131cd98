"""make's parameters stamps: ``build/params/<dataset>/<stage>.json`` holds what each stage of a
dataset receives, rewritten only when that changes, so that editing one stage's section of
``params/<dataset>.yaml`` re-renders that stage alone.

``python -m churn_research.runner.stamps DATASET...`` (the Makefile, once per dataset and run)
writes them; a params file that fails its check stops it with
:class:`~churn_research.runner.params.ParamsError`'s message.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from churn_research.runner.params import PROJECT_ROOT, reported_parameters
from churn_research.runner.registry import stage_names

__all__ = ["stamp_path", "write_stamps"]


def stamp_path(dataset: str, stage: str, *, root: Path = PROJECT_ROOT) -> Path:
    """make's parameters stamp of ``stage`` of ``dataset``: ``build/params/<dataset>/<stage>.json``."""
    return root / "build" / "params" / dataset / f"{stage}.json"


def write_stamps(dataset: str, *, root: Path = PROJECT_ROOT,
                 stages: list[str] | None = None) -> list[str]:
    """Write make's parameters stamp of each stage of ``dataset`` (:func:`stamp_path`): the
    parameters the stage receives (:func:`reported_parameters`; its ``language`` is the report
    language in force, ``REPORT_LANG`` included). A stamp is rewritten only when its content
    changes, so a report is re-rendered only when its own parameters change (another stage's
    section or a comment leaves it alone). A stamp written with the parameters the stage's report
    was rendered with (its provenance) gets the report's time: creating the stamps (a new
    checkout of this Makefile, ``rm -rf build``) re-renders nothing, nor does undoing an edit
    before the stage was rendered again (after ``make -n``, which writes stamps). Returns the stages whose
    stamp was written; :class:`ParamsError` (nothing written) for a file that fails its check."""
    stages = list(stages or stage_names())
    wanted = {s: reported_parameters(dataset, s, root=root) for s in stages}  # all checked first
    written = []
    for stage, params in wanted.items():
        path = stamp_path(dataset, stage, root=root)
        text = json.dumps(params, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        try:
            if path.read_text(encoding="utf-8") == text:
                continue
        except (OSError, UnicodeDecodeError):
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(stage)
        report = root / "reports" / dataset / f"{stage}.html"
        prov = report.with_suffix(".provenance.json")
        if report.exists() and prov.exists():
            try:
                recorded = json.loads(prov.read_text(encoding="utf-8")).get("parameters")
            except (OSError, ValueError):
                continue
            if recorded == params:
                made = report.stat().st_mtime_ns
                os.utime(path, ns=(made, made))
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m churn_research.runner.stamps DATASET...``: :func:`write_stamps` for make."""
    for dataset in argv if argv is not None else sys.argv[1:]:
        write_stamps(dataset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
