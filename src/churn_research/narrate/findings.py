"""The findings of a stage: a headline (the answer, with its interval), a few key findings, and
what was not available for the dataset and why.

A stage's findings are built in the package from its key figures (``narrate/<stage>.py``), never
in a notebook. The runner writes them as ``reports/<dataset>/<stage>.findings.json``, opens the
stage's HTML report with them (the Findings box), shows each headline in the index and gathers
them into ``reports/<dataset>/summary.html``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from churn_research.model import write_atomic

__all__ = ["Finding", "StageFindings"]


@dataclass
class Finding:
    """One key finding: a sentence and the report section it comes from.

    ``section`` is a few words of the heading of that section in the stage's report (the Findings
    box links to the first heading that contains them).
    """

    text: str
    section: str | None = None


@dataclass
class StageFindings:
    """What a stage found, for a reader who reads nothing else.

    Attributes
    ----------
    stage, dataset : str
    headline : str
        One sentence: the answer to the stage's question, with its interval.
    key_findings : list of Finding
        Three to six findings, each linked to its section.
    unavailable : list of str
        "Not available for this dataset: ..., because ..." lines.
    checked_against : str or None
        What the estimates were checked against where that applies (the generator's truth,
        a published table).
    """

    stage: str
    dataset: str
    headline: str
    key_findings: list[Finding] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    checked_against: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StageFindings:
        d = dict(d)
        d["key_findings"] = [Finding(**f) for f in d.get("key_findings", [])]
        return cls(**d)

    def write(self, path: str | Path) -> Path:
        return write_atomic(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False))

    @classmethod
    def read(cls, path: str | Path) -> StageFindings:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
