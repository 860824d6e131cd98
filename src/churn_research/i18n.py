"""The language of everything a reader sees: English (the source language) or Chinese.

Text is written in English in the package and marked for translation with gettext's conventions,
so that Babel's extractor finds every message (``pybabel extract -k N_ -k t -k n_:1,2 -k _p:1c,2
-k label_msg``):

* ``_(message)`` – a fixed message: ``_("Churn rate")``;
* ``t(message, **values)`` – a message with named placeholders, formatted after translation:
  ``t("Churn per {unit}", unit=unit)`` (never an f-string: the catalog holds the template);
* ``n_(singular, plural, n, **values)`` – a message that depends on a count (``{n}`` is the count,
  formatted with thousands separators): ``n_("{n} customer", "{n} customers", 5)``;
* ``N_(message)`` – marks a message kept in English in data (a rule table) and translated with
  ``_`` where it is shown (gettext's ``gettext_noop``);
* ``_p(context, message)`` – a fixed message whose translation depends on where it is shown
  (gettext's ``pgettext``): the table header "value" is 数值 in a definitions table and 年价值 in
  the watchlist, so the watchlist writes ``_p("segments", "value")``;
* ``label(value)`` – a *data* label shown to a reader (a column name such as ``contract``, a coded
  value such as ``two_year`` or ``complaint``, a segment name): its translation when the catalog
  has one (message context ``label``), else the value unchanged (a user's own category names are
  shown as they are).

Catalogs are gettext PO files in ``churn_research/locale/<language>/*.po`` (one per area of the
package, merged when loaded), read with Babel (``babel.messages.pofile``): no compile step, and a
translator edits them with any PO editor. ``tests/test_i18n.py`` extracts every message from the
package and the notebooks and fails when one has no translation, or when a translation's
placeholders differ from its message's.

The language is set once per process (one stage per kernel, one dataset per runner call) with
:func:`set_language`, from the dataset's ``language`` parameter or ``REPORT_LANG``.
"""

from __future__ import annotations

import os
import re
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "DEFAULT_CURRENCY", "set_language", "language", "resolve_language", "_", "_p", "t",
           "n_", "N_", "label", "label_msg", "currency", "money_unit", "catalog", "is_chinese"]

#: The report languages: code -> the language's own name.
LANGUAGES = {"en": "English", "zh": "中文"}

#: The currency a report shows when the dataset's params set none: Chinese reports count in 元;
#: English ones keep the data's own unit unnamed ("currency units" on axes).
DEFAULT_CURRENCY = {"en": "", "zh": "元"}

#: Message context of data labels (column names, coded values) in the catalogs.
LABEL_CONTEXT = "label"

_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}(?!\})")

_state = {"language": "en"}


def resolve_language(value: str | None = None) -> str:
    """The report language: ``REPORT_LANG`` from the environment (a one-off rendering) wins over
    ``value`` (the dataset's ``language`` parameter); English when neither is set."""
    return normalise_language(os.environ.get("REPORT_LANG") or value or "en")


def normalise_language(value: str) -> str:
    """``value`` as a language code (``cn``, ``zh-CN``, ``Chinese``, ``中文`` -> ``zh``), or
    ``ValueError`` for a language the reports are not written in."""
    chosen = str(value).strip().lower().replace("_", "-")
    chosen = {"cn": "zh", "zh-cn": "zh", "zh-hans": "zh", "chinese": "zh", "中文": "zh",
              "english": "en", "en-us": "en", "en-gb": "en"}.get(chosen, chosen)
    if chosen not in LANGUAGES:
        raise ValueError(f"language '{chosen}' is not supported: set `language:` in params/<dataset>.yaml "
                         f"(or REPORT_LANG) to one of {', '.join(LANGUAGES)}.")
    return chosen


def set_language(value: str | None = None) -> str:
    """Set the language of every message from now on (see :func:`resolve_language`); return it."""
    _state["language"] = resolve_language(value)
    return _state["language"]


def language() -> str:
    """The current report language (``"en"`` or ``"zh"``)."""
    return _state["language"]


def is_chinese() -> bool:
    return _state["language"] == "zh"


@cache
def catalog(lang: str) -> dict[tuple[str | None, str], str | tuple[str, ...]]:
    """Every translation of ``lang``: ``{(context, msgid): msgstr}`` (plural messages: a tuple),
    merged from the package's ``locale/<lang>/*.po`` files; untranslated and fuzzy entries are left
    out (they fall back to English, and the catalog test names them)."""
    from babel.messages.pofile import read_po  # noqa: PLC0415 - only when a catalog is needed

    merged: dict[tuple[str | None, str], str | tuple[str, ...]] = {}
    folder = resources.files("churn_research").joinpath("locale", lang)
    if not folder.is_dir():
        return merged
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as fh:
            po = read_po(fh, locale=lang.replace("-", "_"))
        for message in po:
            if not message.id or message.fuzzy:
                continue
            msgid = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
            value = message.string
            if isinstance(value, (tuple, list)):
                value = tuple(value)
                if not all(value):
                    continue
            elif not value:
                continue
            merged[(message.context, msgid)] = value
    return merged


def _lookup(message: str, context: str | None = None) -> str | tuple[str, ...] | None:
    if _state["language"] == "en":
        return None
    return catalog(_state["language"]).get((context, message))


def _(message: str) -> str:
    """``message`` in the current language (English: unchanged; untranslated: English)."""
    found = _lookup(message)
    if isinstance(found, tuple):
        found = found[0]
    return found or message


def _p(context: str, message: str) -> str:
    """``message`` in the current language, translated in ``context`` (English: unchanged)."""
    found = _lookup(message, context)
    if isinstance(found, tuple):
        found = found[0]
    return found or message


def t(message: str, /, **values: Any) -> str:
    """``message`` translated, then formatted with ``values`` (``str.format`` placeholders)."""
    return _fill(_(message), values)


#: A Chinese character or full-width punctuation mark (CJK ideographs, CJK symbols, full-width forms).
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def _fill(template: str, values: dict[str, Any]) -> str:
    """``template.format(**values)``; in a Chinese report a space the template puts between a
    placeholder and Chinese text is dropped when the value's own edge is Chinese too.

    A Chinese translation keeps a space between a number and a Chinese word ("{value} 的收入"
    reads "94,502 的收入"), but a value that ends in a Chinese character (money in 元:
    "94,502 元") must then join the word without one: "94,502 元的收入", never "94,502 元 的收入".
    Only the template's spaces next to a placeholder are touched, never the text of a value."""
    if _state["language"] == "en" or not values:
        return template.format(**values)
    from string import Formatter  # noqa: PLC0415 - Chinese reports only

    fmt = Formatter()
    parts: list[str] = []   # alternating literal text and formatted values
    kinds: list[bool] = []  # True: a formatted value
    for literal, field, spec, conv in fmt.parse(template):
        parts.append(literal)
        kinds.append(False)
        if field is None:
            continue
        obj, _key = fmt.get_field(field, (), values)
        obj = fmt.convert_field(obj, conv)
        parts.append(fmt.format_field(obj, fmt.vformat(spec or "", (), values)))
        kinds.append(True)
    for i, text in enumerate(parts):
        if kinds[i] or not text.strip():
            continue
        before = parts[i - 1] if i and kinds[i - 1] else ""
        after = parts[i + 1] if i + 1 < len(parts) and kinds[i + 1] else ""
        if before and _CJK.match(before[-1:]) and text[:1] == " " and _CJK.match(text.lstrip(" ")[:1]):
            text = text.lstrip(" ")
        if after and _CJK.match(after[:1]) and text[-1:] == " " and _CJK.match(text.rstrip(" ")[-1:]):
            text = text.rstrip(" ")
        parts[i] = text
    return "".join(parts)


def n_(singular: str, plural: str, n: Any, /, **values: Any) -> str:
    """The singular or plural message for the count ``n`` (Chinese has one form); ``{n}`` is the
    count with thousands separators."""
    count = int(round(float(n)))
    found = _lookup(singular)
    if isinstance(found, tuple):
        template = found[0]
    elif isinstance(found, str):
        template = found
    else:
        template = singular if count == 1 else plural
    return _fill(template, {"n": f"{count:,}", **values})


#: A raw column name or coded value (``internet_service``, ``churn_ci_low``, ``complaint_90d``):
#: lower-case words joined by underscores.
_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")

#: Words of a raw name that read differently in an English report (abbreviations).
_EN_WORDS = {"ci": "CI", "csat": "CSAT", "nps": "NPS", "auc": "AUC", "hr": "HR", "se": "SE",
             "ucl": "UCL", "lcl": "LCL", "its": "ITS", "clv": "CLV", "rmst": "RMST", "id": "ID",
             "rfm": "RFM", "aic": "AIC", "bic": "BIC", "ece": "ECE", "roi": "ROI", "vif": "VIF",
             "derl": "DERL", "sbg": "sBG", "glm": "GLM", "gbm": "GBM", "ate": "ATE", "mae": "MAE",
             "pp": "pp", "tv": "TV"}
_EN_UNITS = {"days", "months", "weeks", "years", "pp"}


def _humanised(text: str) -> str:
    """A raw name in words (``churn_ci_low`` -> ``churn 95% CI low``, ``tenure_days`` ->
    ``tenure (days)``, ``p_value`` -> ``p-value``); other text unchanged."""
    if not _IDENTIFIER.fullmatch(text):
        return text
    words = text.split("_")
    unit = words.pop() if len(words) > 1 and words[-1] in _EN_UNITS else None
    out = " ".join(_EN_WORDS.get(w, w) for w in words)
    out = re.sub(r"\bCI (low|high)\b", r"95% CI \1", out).replace("p value", "p-value")
    return f"{out} ({unit})" if unit else out


def _english_label(text: str) -> str:
    """A data label in an English report: the English label catalogue's wording (``locale/en``,
    context ``label``), else ``True``/``False`` as yes/no and a raw name in words."""
    found = catalog("en").get((LABEL_CONTEXT, text))
    if isinstance(found, tuple):
        found = found[0]
    if found:
        return found
    if text in ("True", "False"):
        return "yes" if text == "True" else "no"
    return _humanised(text)


def label(value: Any) -> str:
    """A data label (column name, coded value, category) as a reader sees it in the current
    language: the catalog's translation (context ``label``; English: the English label catalogue,
    else a raw name such as ``internet_service`` in words, ``internet service``), else the value as
    text."""
    text = "" if value is None else str(value)
    if not text:
        return text
    if _state["language"] == "en":
        return _english_label(text)
    found = catalog(_state["language"]).get((LABEL_CONTEXT, text))
    if found is None:
        # "two_year" and "two year" are the same label; so are "Two year" and "two year"
        key = text.replace("_", " ").strip()
        found = (catalog(_state["language"]).get((LABEL_CONTEXT, key))
                 or catalog(_state["language"]).get((LABEL_CONTEXT, key.lower())))
    if isinstance(found, tuple):
        found = found[0]
    return found or text


def N_(message: str) -> str:
    """Mark a fixed message for extraction without translating it now (gettext's
    ``gettext_noop``): text kept in English in data that code reads (a rule table), translated
    with :func:`_` where it is shown. Returns ``message`` unchanged."""
    return message


def label_msg(value: str) -> str:
    """Mark a fixed English data label for extraction (it is translated by :func:`label`); returns
    it unchanged, e.g. ``TENURE_GROUPS = (label_msg("new"), label_msg("existing"))``."""
    return value



def currency(value: str | None = None) -> str:
    """The currency money is shown in: the dataset's ``currency`` parameter, else the language's
    default (元 in Chinese reports, none in English ones)."""
    if value:
        return str(value)
    return DEFAULT_CURRENCY.get(_state["language"], "")


def money_unit(value: str | None = None) -> str:
    """The money unit in an axis label or table header: the currency, else "currency units"."""
    return currency(value) or _("currency units")


def placeholders(message: str) -> set[str]:
    """The named ``{placeholders}`` of a message (what a translation must keep)."""
    return set(_PLACEHOLDER.findall(message))
