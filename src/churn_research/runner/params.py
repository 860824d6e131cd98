"""A dataset's parameters: ``params/<dataset>.yaml`` checked against its schema, and what each stage
receives.

The schema has one source of truth, the notebooks: a stage's section (``stages: <stage>:``) may
hold the names its notebook's ``parameters`` cell assigns, each of the type of the notebook's
default; the common keys (:data:`COMMON_KEYS`, outside ``stages``) take their types from the
notebooks that declare them, and ``source_options`` are checked against the signature of the
loader ``source:`` chooses (:func:`churn_research.sources.loader_options`). Every problem is
reported at once, naming the file, the key (``stages.20_causes.horizon_monthz``), what was
expected, a did-you-mean for a misspelt key and the fix (:class:`ParamsError`); nothing runs on
a file that fails. A dataset other than ``synthetic`` must name its ``source:`` (a misspelt
``sorce:`` must not render the built-in synthetic data under the user's name), and a stage
never receives the notebook's own example ``source_options`` (the synthetic generator's).
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from churn_research.i18n import LANGUAGES, normalise_language, resolve_language
from churn_research.model import BUILT_IN, ChurnDataError
from churn_research.runner.registry import stage_names

__all__ = ["ParamsError", "MissingParamsError", "Problem", "COMMON_KEYS", "RUNNER_KEYS", "notebook_parameters",
           "notebook_defaults", "read_params", "check_params", "stage_parameters",
           "missing_dataset_message", "PROJECT_ROOT", "PATH_KEYS", "reported_parameters"]

PROJECT_ROOT = Path(__file__).resolve().parents[3]

#: Keys outside ``stages:`` (each goes to the stages whose notebook declares it).
COMMON_KEYS = ("title", "source", "source_options", "language", "currency", "windows",
               "tier_rules", "signal_thresholds", "annual_churn_months", "annual_churn_by",
               "reference", "backend", "stages")
#: Set by the runner for every stage, never by a params file.
RUNNER_KEYS = ("dataset", "processed_dir", "output_json")
#: The runner's paths (derived from the project, the dataset and the stage): not part of what a
#: report reflects, left out of its provenance and of make's parameters stamp.
PATH_KEYS = ("processed_dir", "output_json")
#: Keys whose values are dates (a string such as 2025-12-31, or a YAML date).
DATE_KEYS = frozenset({"observation_end", "records_start", "event_date", "cutoff", "study_start",
                       "calibration_end", "start", "change_date", "snapshot"})
#: Dictionaries whose keys are fixed by the notebooks' defaults (others hold column names).
FIXED_DICTS = frozenset({"windows", "tier_rules", "signal_thresholds"})
#: Types of keys whose notebook default is None (``None`` stays allowed).
NONE_DEFAULT_TYPES: dict[str, Any] = {"inactivity_days": 0, "drivers": [], "static_columns": [],
                                      "cluster_features": [], "control_segment": {},
                                      "annual_churn_by": "", "reason_segment": "",
                                      "referral_rate": 0.0, "complaint_multiplier": 0.0}
#: Notebook defaults that describe the synthetic business (its targets, the reference levels of
#: its columns, the names of its true effects): a user's data (a ``source:`` path) gets these
#: neutral values instead unless its params file sets the key (the most frequent level is the
#: reference; no targets).
USER_DATA_DEFAULTS: dict[str, dict[str, Any]] = {
    "10_indicators": {"targets": {}},
    "20_causes": {"reference": {}},
    "30_survival": {"reference": {}, "truth_aliases": {}},
    "40_segments": {"cluster_features": None},  # the behavioural columns the data have
}
_ANY = object()  # a default that is not a literal: any value


@dataclass(frozen=True)
class Problem:
    """One problem in a params file: the key (dotted path), what is wrong and the fix."""

    key: str | None
    message: str
    fix: str = ""
    at: str = ""  # where in the file, for problems that are not a key's (``line 5, column 3``)

    def __str__(self) -> str:
        where = self.at if self.key is None else f"`{self.key}`"
        return f"{where}: {self.message}" + (f" Fix: {self.fix}" if self.fix else "")


class MissingParamsError(SystemExit):
    """``params/<dataset>.yaml`` does not exist: the message says how to create it."""

    def __init__(self, dataset: str, message: str):
        self.dataset = dataset
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.code)


class ParamsError(SystemExit):
    """A params file that does not fit its schema (or is not valid YAML): nothing runs.

    ``str(err)`` names the file and each problem's key, what was expected and the fix; ``file``
    is the file (relative to the project), ``problems`` the :class:`Problem` list, ``key`` the
    first problem's key. A ``SystemExit``: the runner stops with the message and status 1.
    """

    def __init__(self, file: str, problems: list[Problem]):
        self.file, self.problems = file, list(problems)
        self.key = self.problems[0].key if self.problems else None
        if len(self.problems) == 1:
            sep = " " if self.problems[0].key is None else ": "
            text = f"{file}{sep}{self.problems[0]}"
        else:
            text = f"{file}: {len(self.problems)} problems:\n" + "\n".join(
                f"  - {p}" for p in self.problems)
        super().__init__(text)

    def __str__(self) -> str:
        return str(self.code)


# ----------------------------------------------------------------------------------------
# the notebooks: the schema's source of truth
# ----------------------------------------------------------------------------------------
def _parameters_cell(notebook: Path) -> str | None:
    # the notebook's JSON read directly: nbformat's validator takes seconds to import, and make
    # reads the parameters of every stage on each run (:func:`write_stamps`)
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cell = next((c for c in nb.get("cells", [])
                 if "parameters" in (c.get("metadata") or {}).get("tags", [])), None)
    if cell is None:
        return None
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


@lru_cache(maxsize=64)
def _defaults(notebook: str, mtime: float) -> tuple[tuple[str, Any], ...]:
    source = _parameters_cell(Path(notebook))
    if source is None:
        return ()
    out = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        try:
            value = ast.literal_eval(node.value) if node.value is not None else _ANY
        except (ValueError, TypeError, SyntaxError):
            value = _ANY
        out += [(t.id, value) for t in targets if isinstance(t, ast.Name)]
    return tuple(out)


def notebook_defaults(notebook: Path) -> dict[str, Any]:
    """The names a notebook's ``parameters`` cell assigns and their default values."""
    notebook = Path(notebook)
    return dict(_defaults(str(notebook), notebook.stat().st_mtime))


def notebook_parameters(notebook: Path) -> set[str]:
    """The names a notebook's ``parameters`` cell assigns (what papermill may override)."""
    return set(notebook_defaults(notebook))


def _stage_defaults(root: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for stage in stage_names():
        nb = root / "notebooks" / f"{stage}.ipynb"
        if nb.exists():
            out[stage] = {k: v for k, v in notebook_defaults(nb).items() if k not in RUNNER_KEYS}
    return out


# ----------------------------------------------------------------------------------------
# types
# ----------------------------------------------------------------------------------------
def _describe(default: Any, key: str) -> str:
    name = key.rsplit(".", 1)[-1]
    if name in DATE_KEYS:
        return "a date such as 2025-12-31"
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, str):
        return "a text"
    if isinstance(default, (list, tuple)):
        return "a list such as [" + ", ".join(json.dumps(v, ensure_ascii=False) for v in default[:3]) + "]" \
            if default else "a list"
    if isinstance(default, dict):
        return "a mapping of keys to values"
    return "a value"


def _is_date(value: Any) -> bool:
    if isinstance(value, (dt.date, dt.datetime)):
        return True
    if not isinstance(value, str):
        return False
    import pandas as pd

    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        return False
    return True


def _element_default(default: list | tuple) -> Any:
    kinds = {type(v) for v in default}
    if kinds <= {int} and kinds:
        return 0
    if kinds <= {int, float} and kinds:
        return 0.0
    if kinds == {str}:
        return ""
    return _ANY


def _check(value: Any, default: Any, key: str, problems: list[Problem]) -> None:
    """Append a problem when ``value`` (at ``key``) is not of the type of ``default``."""
    if value is None or default is _ANY:
        return
    name = key.rsplit(".", 1)[-1].split("[")[0]
    if default is None:
        default = NONE_DEFAULT_TYPES.get(name, _ANY)
        if default is _ANY and name not in DATE_KEYS:
            return
    if name in DATE_KEYS:
        ok = _is_date(value)
    elif isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, (list, tuple)):
        ok = isinstance(value, list)
        if ok:
            element = _element_default(default)
            for i, v in enumerate(value):
                _check(v, element, f"{key}[{i}]", problems)
            return
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
        if ok and name in FIXED_DICTS:
            _check_mapping(value, default, key, problems)
            return
    else:
        return
    if not ok:
        shown = json.dumps(value, ensure_ascii=False, default=str)
        problems.append(Problem(key, f"expected {_describe(default, key)}, got {shown}.",
                                _type_fix(default, key, value)))


def _type_fix(default: Any, key: str, value: Any) -> str:
    name = key.rsplit(".", 1)[-1].split("[")[0]
    if name in DATE_KEYS:
        if isinstance(value, int) and len(str(value)) == 8:
            s = str(value)
            return f"write it as {s[:4]}-{s[4:6]}-{s[6:]}."
        return "write the date as YYYY-MM-DD, e.g. 2025-12-31."
    if isinstance(default, (int, float)) and not isinstance(default, bool) and isinstance(value, str):
        return "write the number alone, without units or words (e.g. 180 for days, 12 for months)."
    if default is not _ANY and default is not None:
        return f"write {_describe(default, key)}" + (
            f" (the default is {json.dumps(default, ensure_ascii=False)})." if not isinstance(default, dict)
            else ".")
    return ""


def _did_you_mean(key: str, choices) -> str:
    close = difflib.get_close_matches(str(key), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def _check_mapping(value: dict, schema: dict[str, Any], where: str,
                   problems: list[Problem], *, what: str | None = None) -> None:
    """Unknown keys of ``value`` (with a did-you-mean) and the types of the known ones."""
    for k, v in value.items():
        key = f"{where}.{k}" if where else str(k)
        if k not in schema:
            problems.append(Problem(key, f"unknown key.{_did_you_mean(k, schema)}",
                                    f"use one of the keys of {what or where}: {', '.join(map(str, schema))}."))
        else:
            _check(v, schema[k], key, problems)


# ----------------------------------------------------------------------------------------
# reading and checking a params file
# ----------------------------------------------------------------------------------------
class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (YAML keeps the last)."""


def _mapping(loader_: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        key = loader_.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key `{key}` appears twice (first on line {seen[key]})",
                key_node.start_mark)
        try:
            seen[key] = key_node.start_mark.line + 1
        except TypeError:
            pass
    return loader_.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def known_datasets(root: Path = PROJECT_ROOT) -> list[str]:
    """The datasets with a params file."""
    return sorted(p.stem for p in (root / "params").glob("*.yaml"))


def missing_dataset_message(dataset: str, root: Path = PROJECT_ROOT) -> str:
    """What to do when ``params/<dataset>.yaml`` does not exist."""
    known = known_datasets(root)
    close = difflib.get_close_matches(dataset, known, n=1, cutoff=0.6)
    hint = f" Did you mean DATASET={close[0]}?" if close else ""
    return (f"no parameters for dataset '{dataset}': params/{dataset}.yaml does not exist.{hint}\n"
            f"  Known datasets: {', '.join(known) or 'none'}.\n"
            f"  For your own data, put your files in data/raw/{dataset}/ and create params/{dataset}.yaml "
            f"holding one line:\n"
            f"      source: data/raw/{dataset}\n"
            f"  (a directory holding customers.csv, optionally transactions, tickets, surveys, events), "
            f"or `source: data/raw/{dataset}/mapping.yaml` mapping your files and headers onto the data "
            "model; see README.md, 'Your own data'. Then: "
            f"python -m churn_research.runner check --dataset {dataset}")


#: Parsed params files by (path, size, modification time): the index reads every dataset's file
#: once per stage report (to say whether a report is stale), and PyYAML's pure-Python parser takes
#: about 0.1 s a file.
_PARSED: dict[tuple[str, int, int], Any] = {}


def _parsed(path: Path) -> Any:
    """``path`` parsed with :class:`_UniqueKeyLoader`, once per version of the file (a deep copy
    each time: callers may change what they get)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _PARSED:
        _PARSED[key] = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    return copy.deepcopy(_PARSED[key])


def read_params(dataset: str, *, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """``params/<dataset>.yaml`` parsed (no schema check); :class:`ParamsError` for YAML that
    does not parse (with its line and column) or is not a mapping; ``SystemExit`` with
    :func:`missing_dataset_message` when the file does not exist."""
    path = root / "params" / f"{dataset}.yaml"
    shown = _shown(path, root)
    if not path.exists():
        raise MissingParamsError(dataset, missing_dataset_message(dataset, root))
    try:
        spec = _parsed(path)
    except UnicodeDecodeError as exc:
        raise ParamsError(shown, [Problem(None, f"is not UTF-8 text ({exc.reason}).",
                                          "save the file as UTF-8.")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        text = f"YAML syntax error: {problem}" + (f" ({context})" if context else "") + "."
        if mark is not None:
            lines = path.read_text(encoding="utf-8").splitlines()
            if 0 <= mark.line < len(lines):
                text += f" The line reads: {lines[mark.line].strip()!r}."
        fix = ("remove one of the two (YAML would silently keep the last)."
               if "appears twice" in str(problem) else
               "indent with spaces (not tabs), write `key: value`, and quote texts that hold "
               "': ' or ' #'.")
        raise ParamsError(shown, [Problem(None, text, fix, at=where)]) from None
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise ParamsError(shown, [Problem(None, "expected a mapping of `key: value` lines, got "
                                          f"{type(spec).__name__}.",
                                          f"start from one line: `source: data/raw/{dataset}`.")])
    return spec


def check_params(dataset: str, spec: dict[str, Any], *, root: Path = PROJECT_ROOT,
                 check_files: bool = False) -> list[Problem]:
    """Every problem of the params ``spec`` of ``dataset`` (empty: it fits the schema).

    ``check_files``: also check that a ``source:`` path exists (relative to ``root``).
    """
    problems: list[Problem] = []
    stages = _stage_defaults(root)
    declared: dict[str, Any] = {}
    for defaults in stages.values():
        for k, v in defaults.items():
            if k in COMMON_KEYS and (k not in declared or declared[k] is None):
                declared[k] = v
    common = {**{k: declared.get(k, _ANY) for k in COMMON_KEYS}, "title": "", "source": "",
              "source_options": {}, "stages": {}, "currency": ""}
    for key, value in spec.items():
        key_s = str(key)
        if key in RUNNER_KEYS:
            problems.append(Problem(key_s, "is set by the runner for every stage.",
                                    f"remove `{key}:` from the file."))
        elif key not in common:
            owners = [s for s, d in stages.items() if key in d]
            if owners:
                problems.append(Problem(
                    key_s, f"is a key of {', '.join('stages.' + s for s in owners)}, not a common key.",
                    f"move it into the section `stages: {owners[0]}:`."))
            else:
                problems.append(Problem(key_s, "unknown key." + _did_you_mean(key_s, common),
                                        f"use one of the common keys: {', '.join(COMMON_KEYS)}."))
        elif key not in ("stages", "source", "source_options", "language"):
            _check(value, common[key], key_s, problems)
    _check_source(dataset, spec, root, problems, check_files=check_files)
    language = spec.get("language")
    if language is not None and not _is_language(language):
        problems.append(Problem("language", f"unknown report language {language!r}."
                                + _did_you_mean(str(language), LANGUAGES),
                                f"use one of {', '.join(LANGUAGES)}."))
    sections = spec.get("stages")
    if sections is None:
        return problems
    if not isinstance(sections, dict):
        problems.append(Problem("stages", f"expected a mapping of stage names to their keys, got "
                                f"{json.dumps(sections, default=str)}.",
                                "write `stages:` and, indented below it, `10_indicators: {freq: M}`."))
        return problems
    for stage, section in sections.items():
        where = f"stages.{stage}"
        if stage not in stages:
            problems.append(Problem(where, "unknown stage." + _did_you_mean(str(stage), stages),
                                    f"use one of {', '.join(stages)}."))
            continue
        if section is None:
            continue
        if not isinstance(section, dict):
            problems.append(Problem(where, f"expected a mapping of keys to values, got "
                                    f"{json.dumps(section, default=str)}.",
                                    f"write `{stage}: {{}}` for the notebook's defaults."))
            continue
        defaults = stages[stage]
        for key, value in section.items():
            key_s = f"{where}.{key}"
            if key in RUNNER_KEYS:
                problems.append(Problem(key_s, "is set by the runner.", f"remove `{key}:`."))
            elif key not in defaults:
                others = [s for s, d in stages.items() if key in d and s != stage]
                text = "unknown key of this stage." + _did_you_mean(str(key), defaults)
                if others and not _did_you_mean(str(key), defaults):
                    text += f" It is a key of {', '.join('stages.' + s for s in others)}."
                problems.append(Problem(key_s, text, f"the keys of {where} are: "
                                        f"{', '.join(defaults)}."))
            else:
                _check(value, defaults[key], key_s, problems)
    return problems


def _is_language(value: Any) -> bool:
    try:
        normalise_language(value)
    except ValueError:
        return False
    return True


def _check_source(dataset: str, spec: dict[str, Any], root: Path, problems: list[Problem],
                  *, check_files: bool) -> None:
    source = spec.get("source")
    builtin = ", ".join(BUILT_IN)
    if source is None:
        if dataset != "synthetic":
            problems.append(Problem(
                "source", f"missing: without it the built-in synthetic data would be rendered under "
                f"the name '{dataset}'.",
                f"add `source: data/raw/{dataset}` (a directory of tables) or `source: "
                f"data/raw/{dataset}/mapping.yaml` (a mapping file), or a built-in source: {builtin}."))
        source = "synthetic"
    elif not isinstance(source, str):
        problems.append(Problem("source", f"expected a text (a built-in source or a path), got "
                                f"{json.dumps(source, default=str)}.",
                                f"write `source: data/raw/{dataset}` or one of {builtin}."))
        return
    elif "://" in source:  # a connection URL: credentials only from the environment
        from churn_research.sources.tables import expand_url  # noqa: PLC0415 - the engine: only for URLs

        try:
            expand_url(source, environment=False)
        except ChurnDataError as exc:
            problems.append(Problem("source", str(exc).split(" Fix: ")[0],
                                    exc.fix or ""))
    elif source not in BUILT_IN and check_files:
        path = Path(source)
        if not (path if path.is_absolute() else root / path).exists():
            hint = _did_you_mean(source, BUILT_IN) if "/" not in source else ""
            problems.append(Problem("source", f"{source!r} is neither a built-in source nor an "
                                    f"existing path (relative to the project root {root}).{hint}",
                                    f"put your files in data/raw/{dataset}/ and write `source: "
                                    f"data/raw/{dataset}`, or use one of {builtin}."))
    options = spec.get("source_options")
    if options is None:
        return
    if not isinstance(options, dict):
        problems.append(Problem("source_options", "expected a mapping of option names to values, "
                                f"got {json.dumps(options, default=str)}.",
                                "write `source_options: {}` or indent `name: value` lines below it."))
        return
    # the loaders (pandas, the engine) only for a file that sets options: the runner's start
    from churn_research.sources import loader, loader_options  # noqa: PLC0415

    allowed = loader_options(source)
    fn = loader(source)
    for key, value in options.items():
        key_s = f"source_options.{key}"
        if key not in allowed:
            elsewhere = [b for b in BUILT_IN if key in loader_options(b)]
            text = (f"not an option of the loader of `source: {source}` ({fn.__name__}).")
            text += _did_you_mean(str(key), allowed)
            if elsewhere and not _did_you_mean(str(key), allowed):
                text += f" (`{key}` is an option of the {elsewhere[0]} source.)"
            problems.append(Problem(key_s, text, f"remove it; the options of {fn.__name__} are: "
                                    f"{', '.join(allowed)}."))
        else:
            _check(value, allowed[key], key_s, problems)


def load_params(dataset: str, *, root: Path = PROJECT_ROOT, check_files: bool = False) -> dict[str, Any]:
    """``params/<dataset>.yaml`` read and checked; :class:`ParamsError` listing every problem."""
    spec = read_params(dataset, root=root)
    problems = check_params(dataset, spec, root=root, check_files=check_files)
    if problems:
        raise ParamsError(_shown(root / "params" / f"{dataset}.yaml", root), problems)
    return spec


def parameter_hint(dataset: str, stage: str, key: str, *, root: Path = PROJECT_ROOT) -> str:
    """Where to change parameter ``key`` (dotted, e.g. ``reference.plan``) of ``stage`` for
    ``dataset``: the params file and the section that sets it (the stage's section, or the top
    level for a common key shared by several stages), or where to add it."""
    file = f"params/{dataset}.yaml"
    top = key.split(".")[0]
    try:
        spec = read_params(dataset, root=root)
    except (SystemExit, OSError, yaml.YAMLError):
        spec = {}
    section = ((spec.get("stages") or {}).get(stage) or {}) if isinstance(spec, dict) else {}
    if top in section:
        return f"edit `{key}` in {file}, section `stages: {stage}:`."
    if isinstance(spec, dict) and top in spec:
        return (f"edit `{key}` in {file}, at the top level (`{top}:`, shared by every stage that "
                f"uses it), or set `{top}:` in section `stages: {stage}:` for this stage only.")
    return (f"add `{top}:` to {file} (at the top level for every stage, or in section "
            f"`stages: {stage}:`); see docs/parameters.md.")


def stage_parameters(dataset: str, stage: str, *, root: Path = PROJECT_ROOT,
                     check_files: bool | None = None) -> dict[str, Any]:
    """The parameters papermill injects into ``stage`` for ``dataset``.

    The params file is checked first (:func:`load_params`; for 00_data, also that ``source:``
    exists). Then: the common keys of ``params/<dataset>.yaml`` (outside ``stages``) that the
    stage's notebook declares in its ``parameters`` cell (so ``tier_rules`` reaches both
    40_segments and 50_clv, and ``source`` only 00_data), the keys of its ``stages: <stage>:``
    section, and the paths ``processed_dir`` and ``output_json``. ``source`` and
    ``source_options`` are always given to a stage that declares them (``synthetic`` and no
    options by default), and a user's data (a ``source:`` path) gets :data:`USER_DATA_DEFAULTS`
    for what its file leaves out, so the notebooks' example values (the synthetic business's)
    never reach a user's dataset.
    """
    if check_files is None:
        check_files = stage == "00_data"
    spec = dict(load_params(dataset, root=root, check_files=check_files))
    stages = spec.pop("stages", {}) or {}
    notebook = root / "notebooks" / f"{stage}.ipynb"
    declared = notebook_parameters(notebook) if notebook.exists() else set()
    params = {k: v for k, v in spec.items() if k in declared}
    if "source" in declared:
        params.setdefault("source", "synthetic")
    if "source_options" in declared and not params.get("source_options"):
        params["source_options"] = {}
    if spec.get("source", "synthetic") not in BUILT_IN:
        params.update({k: v for k, v in USER_DATA_DEFAULTS.get(stage, {}).items()
                       if k in declared and k not in spec})  # a common key the file sets wins
    params.update(stages.get(stage) or {})
    if "language" in declared:  # REPORT_LANG (a one-off rendering) wins over the params file
        params["language"] = resolve_language(params.get("language"))
    params["dataset"] = dataset
    params["processed_dir"] = str(root / "data" / "processed" / dataset)
    params["output_json"] = str(root / "reports" / dataset / f"{stage}.json")
    return params


def reported_parameters(dataset: str, stage: str, *, root: Path = PROJECT_ROOT,
                        check_files: bool | None = None) -> dict[str, Any]:
    """:func:`stage_parameters` without the runner's paths (:data:`PATH_KEYS`), as JSON holds
    them (dates as text): what a report's provenance records, what make's parameters stamp
    holds (:func:`write_stamps`) and what the index compares to call a report stale."""
    params = stage_parameters(dataset, stage, root=root, check_files=check_files)
    return json.loads(json.dumps({k: v for k, v in params.items() if k not in PATH_KEYS},
                                 sort_keys=True, default=str))

