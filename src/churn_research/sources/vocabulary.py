"""The value vocabulary: common Chinese and English variants of the data model's coded values.

A user's export says 投诉 where the stages count ``"complaint"``, 否 where they expect ``False``,
代理商 where the claims look for an intermediary. :func:`normalise_values` maps such variants onto
the canonical values (those of the synthetic generator, :mod:`churn_research.sources.synthetic`)
before validation, so every stage reads the same codes whatever the language of the export.

Columns and what happens to a value the vocabulary does not know:

=========================  =========================================  =========================
column                     canonical values                           unknown value
=========================  =========================================  =========================
tickets.kind               complaint, inquiry, technical, billing,    stops loading
                           cancellation, other
yes/no flags (BOOLEANS)    True, False                                stops loading
Telco-like flags           True, False (when every value is yes/no)   column kept as it is
gender                     female, male                               kept as it is
customer_type              consumer, business, intermediary           kept as it is
contract                   monthly, annual, two_year                  kept as it is
channel                    online, store, partner, phone, direct      kept as it is
churn_reason               price, competitor, product_quality,        kept as it is
                           service_quality, needs_changed,
                           relocation, other
=========================  =========================================  =========================

Ticket kinds and yes/no flags change counts (complaints, price sensitivity), so a value that is
neither known nor mapped stops loading with a :class:`~churn_research.model.ChurnDataError`
naming the table, column and values and the ``values:`` fix; the other columns are labels, whose
unknown values are kept. Free labels (region, plan, ...) are never recoded. Other text columns
whose every value is a yes/no word (是/否, yes/no, true/false, 有/无) become booleans too.

The mapping file extends the vocabulary per column (``values: {tickets.kind: {售后: technical}}``
at the top, or ``values: {kind: {...}}`` under a table); its entries take precedence. Matching
ignores case, surrounding blanks, full-width forms and the difference between ``-``, ``_`` and a
blank (``Month-to-month`` = ``month to month``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import numpy as np
import pandas as pd

from churn_research.model import ChurnDataError, offending_rows

__all__ = ["VOCABULARY", "YES_NO", "BOOLEANS", "LIKELY_FLAGS", "STRICT", "canonical_key", "normalise_values",
           "user_values"]

#: Canonical value -> its variants, per column (the canonical value itself always matches).
VOCABULARY: dict[str, dict[str, tuple[str, ...]]] = {
    "kind": {
        "complaint": ("投诉", "客诉", "抱怨", "投诉单", "客户投诉", "complaints", "complain"),
        "inquiry": ("咨询", "询问", "查询", "问询", "enquiry", "inquiries", "question", "questions",
                    "query"),
        "technical": ("报修", "故障", "技术", "技术支持", "维修", "tech", "technical support",
                      "support", "repair", "fault", "incident"),
        "billing": ("账单", "计费", "缴费", "付款", "bill", "invoice", "payment"),
        "cancellation": ("退订", "销户", "注销", "取消", "cancel", "cancellation request"),
        "other": ("其他", "其它", "others", "misc"),
    },
    "gender": {
        "female": ("女", "女性", "女士", "f", "w", "woman", "women"),
        "male": ("男", "男性", "先生", "m", "man", "men"),
    },
    "customer_type": {
        "consumer": ("个人", "个人客户", "个人用户", "消费者", "终端客户", "终端用户", "散户", "c端",
                     "individual", "personal", "private", "retail customer", "end customer",
                     "end consumer", "b2c"),
        "business": ("企业", "企业客户", "公司", "公司客户", "单位", "集团客户", "对公", "b端",
                     "corporate", "enterprise", "company", "b2b", "organisation",
                     "organization"),
        "intermediary": ("代理商", "代理", "经销商", "批发商", "零售商", "分销商", "中间商", "渠道商",
                         "合作伙伴", "reseller", "partner", "dealer", "distributor",
                         "wholesaler", "wholesale", "retailer", "agent", "broker"),
    },
    "contract": {
        "monthly": ("月付", "按月", "月度", "包月", "月租", "每月", "month", "month to month",
                    "per month", "1 month"),
        "annual": ("年付", "按年", "年度", "包年", "一年", "1年", "每年", "yearly", "year",
                   "one year", "1 year", "12 months"),
        "two_year": ("两年", "二年", "2年", "两年期", "two year", "2 year", "2 years",
                     "two years", "24 months", "biennial"),
    },
    "channel": {
        "online": ("线上", "网上", "网店", "网络", "官网", "电商", "app", "web", "internet",
                   "e-commerce", "ecommerce"),
        "store": ("门店", "线下", "实体店", "营业厅", "店面", "shop", "offline", "branch", "retail"),
        "partner": ("代理", "代理商", "合作伙伴", "经销商", "分销商", "渠道", "渠道商", "partners",
                    "reseller", "dealer", "distributor", "agent", "indirect"),
        "phone": ("电话", "电销", "电话销售", "热线", "telesales", "telephone", "call centre",
                  "call center"),
        "direct": ("直销", "直营", "direct sales"),
    },
    "churn_reason": {
        "price": ("价格", "价格太高", "价格高", "太贵", "涨价", "费用高", "费用太高", "资费", "资费高",
                  "too expensive", "expensive", "pricing", "cost", "price increase",
                  "price rise"),
        "competitor": ("竞争对手", "竞品", "竞争", "转投竞争对手", "转网", "competition",
                       "competitors", "switched to competitor", "competitor offer"),
        "product_quality": ("质量", "产品质量", "质量差", "质量问题", "产品问题", "quality",
                            "product", "poor quality"),
        "service_quality": ("服务", "服务差", "服务不好", "服务质量", "服务问题", "客服", "service",
                            "poor service", "customer service", "service quality"),
        "needs_changed": ("需求变化", "不再需要", "没有需求", "无需求", "需求改变", "needs change",
                          "no longer needed", "not needed", "no need"),
        "relocation": ("搬家", "迁移", "搬迁", "迁出", "移居", "moved", "moving", "relocated",
                       "move"),
        "other": ("其他", "其它", "others", "unknown reason"),
    },
}

#: Yes/no words: True / False and their variants.
YES_NO: dict[bool, tuple[str, ...]] = {
    True: ("是", "有", "对", "真", "已", "y", "yes", "true", "t", "1", "1.0"),
    False: ("否", "无", "没有", "不是", "错", "假", "未", "n", "no", "false", "f", "0", "0.0"),
}
#: Words that make a column boolean without being declared (single letters and digits too
#: easily mean something else).
_YES_NO_WORDS = {"是", "否", "有", "无", "没有", "不是", "yes", "no", "true", "false"}
#: Extra yes/no words of particular flags.
_FLAG_WORDS: dict[str, dict[bool, tuple[str, ...]]] = {
    "resolved": {True: ("已解决", "解决", "已处理", "已完成", "完成", "closed", "done"),
                 False: ("未解决", "处理中", "待处理", "未处理", "open", "pending")},
    "price_rise": {True: ("涨价", "已涨价", "上调"), False: ("未涨价", "没涨价", "不涨价")},
    "treated": {True: ("干预", "已干预", "实验组", "处理组", "已触达", "treatment", "contacted"),
                False: ("未干预", "对照", "对照组", "控制组", "未触达", "control", "holdout",
                        "hold out")},
}
#: The data model's yes/no flags, per table: a value that is not a yes/no word stops loading.
BOOLEANS: dict[str, tuple[str, ...]] = {
    "customers": ("price_rise", "senior", "senior_citizen", "is_senior"),
    "tickets": ("resolved",),
    "campaigns": ("treated",),
}
#: Columns that are usually flags (the Telco data's): booleans when every value is a yes/no
#: word (Y/N and 1/0 included), else kept as they are.
LIKELY_FLAGS: dict[str, tuple[str, ...]] = {
    "customers": ("partner", "dependents", "phone_service", "paperless_billing",
                  "total_charges_imputed"),
}
#: Coded columns (table, column) whose meaning depends on every value: unknown values stop.
STRICT: tuple[tuple[str, str], ...] = (("tickets", "kind"),)
#: Tables whose columns the label vocabularies apply to (``kind`` only to tickets).
_LABEL_TABLES = ("customers", "transactions", "tickets", "surveys")
_MAX_SHOWN, _MAX_CHARS = 10, 20


def canonical_key(value) -> str:
    """The form values are matched in: NFKC (full-width to half-width), case-folded, stripped,
    with runs of blanks, ``-`` and ``_`` as one blank."""
    text = unicodedata.normalize("NFKC", str(value)).casefold().strip()
    return re.sub(r"[\s_\-]+", " ", text)


def _lookup(table: dict) -> dict[str, object]:
    out: dict[str, object] = {}
    for canonical, variants in table.items():
        for v in (canonical, *variants):
            out[canonical_key(v)] = canonical
    return out


_LOOKUPS = {col: _lookup(t) for col, t in VOCABULARY.items()}
_YES_NO_LOOKUP = _lookup(YES_NO)


def _shown(values) -> list[str]:
    """At most ten distinct values, each cut to 20 characters (coded categories, not personal)."""
    out = []
    for v in list(dict.fromkeys(str(x) for x in values))[:_MAX_SHOWN]:
        out.append(v if len(v) <= _MAX_CHARS else v[:_MAX_CHARS - 1] + "…")
    return out


def user_values(spec: Mapping | None, tables_spec: Mapping | None = None) -> dict[tuple[str, str], dict]:
    """The mapping file's ``values:`` as ``{(table, column): {source value: target}}``.

    ``spec`` is the top-level ``values:`` (keys ``table.column``); ``tables_spec`` the
    ``tables:`` section, whose tables may hold their own ``values: {column: {...}}``.
    """
    out: dict[tuple[str, str], dict] = {}
    for key, recode in (spec or {}).items():
        table, _, column = str(key).partition(".")
        if not column or not isinstance(recode, Mapping):
            raise ChurnDataError(
                f"`values:` entry {str(key)[:40]!r} is not of the form table.column: {{...}}.",
                fix="write e.g. `values: {tickets.kind: {售后: technical}}`.")
        out.setdefault((table, column), {}).update(recode)
    for table, tspec in (tables_spec or {}).items():
        for column, recode in ((tspec or {}).get("values") or {}).items():
            if not isinstance(recode, Mapping):
                raise ChurnDataError(f"`values:` of column '{column}' is not a mapping.",
                                     table=table, column=column,
                                     fix=f"write e.g. `values: {{{column}: {{原值: canonical}}}}`.")
            out.setdefault((table, str(column)), {}).update(recode)
    return out


def _as_bool(value, words: dict[str, object]):
    if isinstance(value, bool):
        return value
    return words.get(canonical_key(value))


def _flag(df: pd.DataFrame, table: str, column: str, user: dict, *, strict: bool,
          any_word: bool = False) -> pd.Series | None:
    """The column as booleans (nullable when it has gaps); None if not a flag (lenient). A
    lenient column must consist of yes/no words (``any_word``: letters and digits included)."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s) and not user:
        return s
    words = dict(_YES_NO_LOOKUP)
    for flag, extra in (_FLAG_WORDS.get(column) or {}).items():
        words.update({canonical_key(v): flag for v in extra})
    for src, target in user.items():
        b = _as_bool(target, _YES_NO_LOOKUP)
        if b is None:
            raise ChurnDataError(
                f"`values:` maps {str(src)[:_MAX_CHARS]!r} to {str(target)[:_MAX_CHARS]!r}, which "
                "is not yes or no.", table=table, column=column,
                fix=f"map the values of {table}.{column} to true or false.")
        words[canonical_key(src)] = b
    codes, present, uniq = _distinct(s)
    if not strict and len(uniq) > len(_YES_NO_WORDS):
        return None  # an identifier or a label, not a flag
    table_of = {u: _as_bool(u, words) for u in uniq}
    unknown = [u for u, b in table_of.items() if b is None]
    if unknown:
        if not strict:
            return None
        bad = _rows_of(codes, uniq, unknown)
        first = _shown(unknown)[0]
        raise ChurnDataError(
            f"{int(bad.sum())} value(s) that are not yes/no: {_shown(unknown)}; a flag read "
            "wrongly would silently change every count that uses it.",
            table=table, column=column, rows=offending_rows(df, bad),
            fix=f"map them in the mapping file, e.g. `values: {{{table}.{column}: "
                f"{{{first}: true}}}}` (or false).")
    if not strict and (len(uniq) == 0 or not (
            any_word or {canonical_key(u) for u in uniq} <= _YES_NO_WORDS)):
        return None
    # s.map(table_of).where(present), built on the distinct values (no object per row);
    # code -1 (missing) takes the last slot
    flag = np.zeros(len(present) + 1, dtype=bool)
    flag[uniq.index] = [bool(table_of[u]) for u in uniq]
    gap = np.ones(len(present) + 1, dtype=bool)
    gap[uniq.index] = False
    values, missing = flag[codes], gap[codes]
    if missing.any():
        return pd.Series(pd.arrays.BooleanArray(values, missing), index=s.index, name=s.name)
    return pd.Series(values, index=s.index, name=s.name)


def _label(df: pd.DataFrame, table: str, column: str, user: dict, *, strict: bool) -> pd.Series:
    s = df[column]
    words = dict(_LOOKUPS.get(column, {}))
    known = set(words.values())
    for src, target in user.items():
        mapped = words.get(canonical_key(target), target)  # 售后: 报修 -> technical
        words[canonical_key(src)] = mapped
        known.add(mapped)
    codes, present, uniq = _distinct(s)
    table_of = {u: words.get(canonical_key(u)) for u in uniq}
    unknown = [u for u, v in table_of.items() if v is None]
    if unknown and strict:
        bad = _rows_of(codes, uniq, unknown)
        first = _shown(unknown)[0]
        raise ChurnDataError(
            f"{int(bad.sum())} row(s) with unknown value(s) {_shown(unknown)}; the stages count "
            f"{table} by {column} ({', '.join(sorted(VOCABULARY.get(column, known)))}), so an "
            "unrecognised value would silently change the counts.",
            table=table, column=column, rows=offending_rows(df, bad),
            fix=f"map each value onto the one of those it means in the mapping file, e.g. "
                f"`values: {{{table}.{column}: {{{first}: technical}}}}`.")
    recode = {u: v for u, v in table_of.items() if v is not None and v != u}
    if not recode:
        return s
    # s.map(recode) where recoded, s elsewhere, NaN where s is missing: an object column of
    # references to the few distinct values (not a new string per row)
    distinct = np.empty(len(present) + 1, dtype=object)
    distinct[:-1] = [recode.get(u, u) for u in uniq.distinct]
    distinct[-1] = np.nan
    return pd.Series(distinct[codes], index=s.index, name=s.name, dtype=object)


class _Distinct(list):
    """The present (non-blank) distinct values of a column in order of first appearance, as
    ``pd.unique(s[present])`` (a list), with ``distinct`` (every non-missing distinct value,
    blanks included) and ``index`` (the positions of the present ones in ``distinct``)."""

    distinct: list
    index: np.ndarray


def _distinct(s: pd.Series) -> tuple[np.ndarray, np.ndarray, _Distinct]:
    """``s`` factorised: each row's code into its distinct non-missing values (-1: missing),
    whether each distinct value is present (not blank: ``str(v).strip() != ""``) and the
    present ones (:class:`_Distinct`). The per-row work of the vocabulary (is a value blank,
    what does it map to) is done once per distinct value: 10^7 customers' columns never
    become a Python string per row."""
    codes, values = pd.factorize(s, use_na_sentinel=True)
    distinct = list(values)
    present = np.array([str(v).strip() != "" for v in distinct], dtype=bool)
    uniq = _Distinct(v for v, p in zip(distinct, present, strict=True) if p)
    uniq.distinct, uniq.index = distinct, np.flatnonzero(present)
    return codes, present, uniq


def _rows_of(codes: np.ndarray, uniq: _Distinct, values: list) -> np.ndarray:
    """Rows holding one of ``values`` (some of ``uniq``), as a boolean array."""
    wanted = set(values)
    hit = np.zeros(len(uniq.distinct) + 1, dtype=bool)
    hit[uniq.index[[i for i, v in enumerate(uniq) if v in wanted]]] = True
    return hit[codes]


def normalise_values(tables: dict[str, pd.DataFrame],
                     values: dict[tuple[str, str], dict] | None = None) -> dict[str, pd.DataFrame]:
    """Map the coded columns of ``tables`` onto canonical values (new frames; inputs untouched).

    ``values`` holds the mapping file's own recodings, ``{(table, column): {value: target}}``
    (see :func:`user_values`); they take precedence over the vocabulary. Raises
    :class:`ChurnDataError` for an unknown ticket kind or a flag value that is not yes/no.
    Columns the vocabulary does not cover are recoded only by ``values``.
    """
    values = values or {}
    unused = [f"{t}.{c}" for (t, c) in values if t not in tables or c not in tables[t].columns]
    if unused:
        raise ChurnDataError(
            f"`values:` names column(s) {unused[:_MAX_SHOWN]} that the loaded tables do not have.",
            fix="use the data model's column names (after `columns:` renaming), e.g. "
                "`values: {tickets.kind: {...}}`.")
    out = {}
    for table, df in tables.items():
        if df is None:
            out[table] = df
            continue
        df = df.copy(deep=False)
        for column in df.columns:
            user = values.get((table, column), {})
            if column in BOOLEANS.get(table, ()):
                df[column] = _flag(df, table, column, user, strict=True)
            elif column in LIKELY_FLAGS.get(table, ()) and not user:
                flag = _flag(df, table, column, {}, strict=False, any_word=True)
                if flag is not None:
                    df[column] = flag
            elif (table, column) in STRICT or (
                    column in VOCABULARY and column != "kind" and table in _LABEL_TABLES):
                df[column] = _label(df, table, column, user, strict=(table, column) in STRICT)
            elif user:
                df[column] = _label(df, table, column, user, strict=False)
            elif (df[column].dtype == object or pd.api.types.is_string_dtype(df[column])) and (
                    column not in ("customer_id", "name", "description")):
                flag = _flag(df, table, column, {}, strict=False)
                if flag is not None:
                    df[column] = flag
        out[table] = df
    return out
