"""Personal data: the project's one rule for what counts as personal, and its removal.

A column is personal when its **header** says so (English and Chinese CRM headers, in any table:
names, phone numbers, e-mails, addresses, ID numbers, messaging accounts, employee names, free
text such as notes or comments, birth dates, bank details, locations) or when its **values**
do (phone numbers incl. Chinese mobiles, e-mail addresses, 18-digit Chinese ID numbers with a
valid check digit, WeChat ids ``wxid_…``, person names, long free text). :func:`screen` drops
such columns from every table before anything is validated or written, records each decision
with its reason in ``meta["personal_data"]`` (shown by the 00_data report), reduces free-text
churn reasons to ``"other"`` and refuses a ``customer_id`` that looks like phone numbers,
e-mails or ID numbers (a key appears in every report that lists customers; the user is asked to
map the CRM's own customer number instead). :func:`mask` hides personal-looking values in any
text (every :class:`~churn_research.model.ChurnDataError` and the runner's failure records use
it), so an error message never quotes them.

What is kept: the data model's own columns (``customer_id``, the dates, ``amount``, ``kind``,
``churn_reason``, ``region``, ...; the name and description of a business change in
``events``, whose personal-looking substrings are masked) and every other column neither its
header nor its values mark as personal (e.g. Telco's ``phone_service``, ``partner``,
``payment_method``). The limit: a person's name under a neutral header is recognised only when
the column looks like a list of names (most values a Chinese surname and one or two characters,
or two or three capitalised words, mostly distinct); a handful of employee names repeated over
many rows under a header such as ``x3`` cannot be told from a label.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PERSONAL_COLUMNS", "PERSONAL_TABLES", "REASONS", "header_reason", "content_reason",
           "is_personal_header", "looks_personal", "mask", "screen", "free_text_reason", "key_problem"]

#: Exact column names that hold personal data (the simplest case of :func:`header_reason`;
#: kept for code that filters frames by name).
PERSONAL_COLUMNS = ("name", "first_name", "last_name", "full_name", "phone", "mobile", "email",
                    "e_mail", "address", "姓名", "电话", "手机", "手机号", "邮箱", "地址")
#: Tables whose ``name`` column is a person's (``events.name`` names a business change).
PERSONAL_TABLES = ("customers", "transactions", "tickets", "surveys")

#: The reasons a column is dropped (English; the 00_data report translates them).
REASONS = ("names", "phone numbers", "e-mail addresses", "postal addresses", "ID numbers",
           "messaging accounts", "contact details", "employee names", "free text",
           "birth dates", "bank details", "locations")

# ------------------------------------------------------------------------------------------
# headers
# ------------------------------------------------------------------------------------------
#: Columns of the data model, per table, that are never dropped by their header.
_MODEL_COLUMNS = {
    "customer_id", "start_date", "end_date", "date", "amount", "kind", "churn_reason", "gender",
    "age", "senior", "senior_citizen", "region", "channel", "customer_type", "plan", "contract",
    "price_rise", "monthly_revenue", "quantity", "margin", "resolved", "resolution_days", "csat",
    "nps", "tenure_months", "monthly_charges", "total_charges", "total_charges_imputed",
    "last_purchase", "status",
}
_EVENT_COLUMNS = {"date", "name", "description"}

#: English header words: a column is personal when one of its words is a core word of a
#: reason and every other word is a qualifier (``phone_number`` yes, ``phone_service`` no).
_CORE: dict[str, set[str]] = {
    "names": {"name", "names", "firstname", "lastname", "fullname", "surname", "forename",
              "givenname", "nickname", "username", "login", "payer", "payee", "recipient"},
    "phone numbers": {"phone", "phones", "telephone", "tel", "mobile", "cellphone", "cell",
                      "fax", "msisdn", "landline"},
    "e-mail addresses": {"email", "emails", "mail"},
    "postal addresses": {"address", "addr", "street", "postcode", "zipcode", "zip"},
    "ID numbers": {"ssn", "passport", "nric", "idcard", "identity", "identification",
                   "national", "citizen", "license", "licence"},
    "messaging accounts": {"wechat", "weixin", "wx", "wxid", "qq", "whatsapp", "telegram",
                           "skype", "twitter", "facebook", "instagram", "linkedin", "weibo",
                           "dingtalk", "handle"},
    "contact details": {"contact", "contacts"},
    "employee names": {"agent", "rep", "salesperson", "salesman", "saleswoman", "employee",
                       "staff", "handler", "assignee", "operator", "consultant", "advisor",
                       "adviser", "representative", "manager", "csr"},
    "free text": {"note", "notes", "comment", "comments", "remark", "remarks", "memo", "memos",
                  "feedback", "message", "messages", "text", "freetext", "verbatim",
                  "description", "desc", "summary", "body", "content", "transcript",
                  "narrative", "explanation"},
    "birth dates": {"birthday", "birthdate", "dob", "birth"},
    "bank details": {"iban", "bank", "card", "creditcard"},
    "locations": {"latitude", "longitude", "lat", "lng", "lon", "gps", "coordinates", "geo",
                  "ip"},
}
_QUALIFIERS = {
    "number", "numbers", "no", "num", "nr", "id", "address", "contact", "home", "work",
    "office", "mobile", "cell", "personal", "private", "primary", "secondary", "main", "alt",
    "alternate", "alternative", "other", "customer", "customers", "client", "cust", "user",
    "member", "payer", "buyer", "holder", "account", "emergency", "backup", "e", "info",
    "details", "detail", "of", "the", "raw", "full", "first", "last", "given", "family",
    "middle", "sur", "nick", "display", "legal", "real", "person", "registered", "billing",
    "shipping", "delivery", "postal", "mailing", "street", "code", "country", "area", "city",
    "line", "1", "2", "3", "name", "names", "text", "verbatim",
}
#: Further qualifiers of one reason (``service`` qualifies an agent, not a phone:
#: ``customer_service_agent`` is personal, Telco's ``phone_service`` is not).
_EXTRA: dict[str, set[str]] = {
    "employee names": {"sales", "relationship", "service", "support", "assigned", "to", "by",
                       "handled", "responsible", "key", "cs", "csr", "agent"},
    "free text": {"free", "ticket", "survey", "internal", "open", "additional", "general",
                  "call", "reason", "reasons", "detailed", "long", "short", "answer",
                  "response", "agent", "public", "cs"},
    "birth dates": {"date", "day", "place"},
    "bank details": {"credit", "debit", "bank", "card"},
    "ID numbers": {"driver", "drivers", "social", "security", "card"},
    "messaging accounts": {"wechat", "weixin", "qq", "handle"},
}
#: Chinese header fragments (matched anywhere in the header), per reason; earlier reasons win
#: (付款人手机, the payer's mobile: phone numbers).
_CHINESE: dict[str, tuple[str, ...]] = {
    "ID numbers": ("身份证", "证件", "护照", "社保号", "户籍"),
    "phone numbers": ("电话", "手机", "座机", "传真"),
    "e-mail addresses": ("邮箱", "邮件", "电邮"),
    "postal addresses": ("地址", "住址", "邮编", "住所", "居住地"),
    "messaging accounts": ("微信", "钉钉", "微博", "qq"),
    "contact details": ("联系方式",),
    "employee names": ("客户经理", "经理", "业务员", "销售员", "销售代表", "坐席", "客服人员",
                       "客服专员", "专员", "经办人", "负责人", "处理人", "员工", "跟进人", "维护人",
                       "归属人", "服务人员", "工号", "业务代表"),
    "names": ("姓名", "名字", "姓氏", "客户名", "用户名", "用户名称", "称呼", "昵称", "户名",
              "付款人", "收款人", "付款方", "联系人", "持卡人", "收件人"),
    "free text": ("备注", "说明", "评论", "留言", "意见", "反馈", "描述", "详情", "内容", "原文",
                  "摘要", "批注"),
    "birth dates": ("生日", "出生"),
    "bank details": ("银行卡", "银行账", "卡号", "账号", "开户行"),
    "locations": ("经纬度", "坐标", "定位", "纬度", "经度"),
}


def _words(column: str) -> list[str]:
    """A header's words: NFKC, camelCase split, case-folded, split at anything not a letter
    or digit (``Phone Number``, ``phoneNumber``, ``phone-number`` -> ``["phone", "number"]``)."""
    text = unicodedata.normalize("NFKC", str(column))
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text).casefold()
    return [w for w in re.split(r"[^0-9a-z]+", text) if w]


def header_reason(table: str, column: str) -> str | None:
    """The reason ``column`` of ``table`` is personal by its header (one of :data:`REASONS`),
    or None. The data model's own columns are never personal by header (``events.name`` names
    a business change; ``customers.name`` is a person's)."""
    name = str(column)
    key = unicodedata.normalize("NFKC", name).casefold().strip()
    if table == "events" and key in _EVENT_COLUMNS:
        return None
    if key in _MODEL_COLUMNS:
        return None
    for reason, fragments in _CHINESE.items():
        if any(f in key for f in fragments):
            return reason
    words = _words(name)
    if not words:
        return None
    if words in (["id", "number"], ["id", "no"], ["id", "num"], ["id", "nr"], ["id", "card"]):
        return "ID numbers"
    if len(words) >= 2 and words[0] == "e" and words[1] == "mail":
        words = ["email", *words[2:]]
    for reason, core in _CORE.items():
        allowed = core | _QUALIFIERS | _EXTRA.get(reason, set())
        if any(w in core for w in words) and all(w in allowed for w in words):
            return reason
    return None


def is_personal_header(column: str, table: str = "customers") -> bool:
    """Whether ``column`` is personal by its header alone (cheap: for filters in the stages)."""
    return header_reason(table, column) is not None


# ------------------------------------------------------------------------------------------
# values
# ------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CN_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_PHONES = (
    re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)"),  # Chinese mobile
    re.compile(r"\+\d[\d\s().-]{6,}\d"),                                         # +country ...
    re.compile(r"(?<![\d-])\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?![\d-])"),         # 555-123-4567
    re.compile(r"(?<![\d-])0\d{2,3}[\s-]\d{7,8}(?!\d)"),                          # 010-12345678
)
_WECHAT = re.compile(r"wxid_[A-Za-z0-9_-]{4,}|(?:微信号?|wechat|weixin)\s*[:：]?\s*[A-Za-z][\w-]{5,19}",
                     re.IGNORECASE)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
#: The 100 most common Chinese surnames (a column of names starts with them).
_SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
                "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎"
                "贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_CN_NAME = re.compile(r"[\u4e00-\u9fff]{2,3}")
_LATIN_NAME = re.compile(r"[A-Z][a-z]+(?:[ '-][A-Z][a-z]+){1,2}")
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
#: Values sampled per column for the content rules (evenly spread over the rows).
_SAMPLE = 2000


def _valid_cn_id(text: str) -> bool:
    """An 18-character Chinese resident ID: a plausible birth date and the ISO 7064 check."""
    if not re.fullmatch(r"\d{17}[\dXx]", text):
        return False
    try:
        born = pd.Timestamp(f"{text[6:10]}-{text[10:12]}-{text[12:14]}")
    except ValueError:
        return False
    if not 1900 <= born.year <= 2100:
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == text[17].upper()


def _phone_in(text: str) -> bool:
    for pattern in _PHONES:
        for m in pattern.finditer(text):
            if sum(ch.isdigit() for ch in m.group()) >= 8:
                return True
    return False


def looks_personal(value: Any) -> str | None:
    """The kind of personal data in one value (``"e-mail addresses"``, ``"ID numbers"``,
    ``"phone numbers"``, ``"messaging accounts"``), or None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = unicodedata.normalize("NFKC", str(value))
    if _EMAIL.search(text):
        return "e-mail addresses"
    if any(_valid_cn_id(m.group()) for m in _CN_ID.finditer(text)):
        return "ID numbers"
    if _phone_in(text):
        return "phone numbers"
    if _WECHAT.search(text):
        return "messaging accounts"
    return None


def _width(text: str) -> int:
    """Display width: a CJK character counts twice (as much meaning as a short word)."""
    return len(text) + len(_CJK.findall(text))


def free_text_reason(values: Iterable[str]) -> str | None:
    """``"free text"`` when ``values`` read as free text (many distinct values, long, with
    blanks or Chinese punctuation and words); ``"names"`` when they look like a list of
    person names; else None. Labels (few distinct values) and codes (no blanks) are neither."""
    vals = [v for v in (str(x).strip() for x in values) if v]
    uniq = list(dict.fromkeys(vals))
    if len(uniq) < 5 or len(uniq) < 0.3 * len(vals):
        return None
    wordy = np.mean([(" " in v) or bool(_CJK.search(v)) for v in uniq])
    if wordy >= 0.5 and np.median([_width(v) for v in uniq]) >= 20:
        return "free text"
    if len(uniq) >= 0.8 * len(vals):
        cn = np.mean([bool(_CN_NAME.fullmatch(v)) and v[0] in _SURNAMES for v in uniq])
        latin = np.mean([bool(_LATIN_NAME.fullmatch(v)) for v in uniq])
        if cn >= 0.8 or latin >= 0.8:
            return "names"
    return None


def _sample(s: pd.Series) -> pd.Series:
    """Up to :data:`_SAMPLE` non-empty values of ``s`` as text, spread evenly over its rows."""
    s = s.dropna()
    if len(s) > 20 * _SAMPLE:
        s = s.iloc[np.linspace(0, len(s) - 1, 20 * _SAMPLE).astype(int)]
    s = s.astype(str)
    s = s[s.str.strip() != ""]
    uniq = pd.unique(s)
    if len(uniq) > _SAMPLE:
        uniq = uniq[np.linspace(0, len(uniq) - 1, _SAMPLE).astype(int)]
        return pd.Series(uniq)
    return s


def _is_text(s: pd.Series) -> bool:
    return (s.dtype == object or pd.api.types.is_string_dtype(s)
            or isinstance(s.dtype, pd.CategoricalDtype))


def content_reason(s: pd.Series) -> str | None:
    """The reason a column is personal by its values (one of :data:`REASONS`), or None: any
    sampled value holding a phone number, e-mail, valid Chinese ID or WeChat id; or a column of
    free text or person names (:func:`free_text_reason`). Numbers, dates and flags never are."""
    if not _is_text(s):
        return None
    sample = _sample(s)
    if sample.empty:
        return None
    for value in pd.unique(sample):
        found = looks_personal(value)
        if found:
            return found
    return free_text_reason(sample.tolist())


# ------------------------------------------------------------------------------------------
# masking
# ------------------------------------------------------------------------------------------
def mask(text: Any) -> str:
    """``text`` with every e-mail address, ID number, phone number and WeChat id replaced by a
    placeholder (``<e-mail>``, ``<ID number>``, ``<phone number>``, ``<WeChat id>``); text
    without any is returned unchanged (full-width forms are read as their ASCII forms)."""
    original = str(text)
    norm = unicodedata.normalize("NFKC", original)
    out = _EMAIL.sub("<e-mail>", norm)
    out = _CN_ID.sub("<ID number>", out)
    out = re.sub(r"(?<!\d)\d{15,19}(?!\d)", "<number>", out)

    def phone(m: re.Match) -> str:
        return "<phone number>" if sum(ch.isdigit() for ch in m.group()) >= 8 else m.group()

    for pattern in _PHONES:
        out = pattern.sub(phone, out)
    out = _WECHAT.sub("<WeChat id>", out)
    return original if out == norm else out


# ------------------------------------------------------------------------------------------
# screening a source's tables
# ------------------------------------------------------------------------------------------
#: A churn reason longer than this (display width) or with more words is free text.
REASON_MAX_WIDTH, REASON_MAX_WORDS = 24, 3


def _reduce_reasons(s: pd.Series, categories: set[str]) -> tuple[pd.Series, int, int]:
    """Free-text churn reasons (not a known category, and longer than a category or holding
    personal data) as ``"other"``; returns the series, the rows and distinct values reduced."""
    # decided once per distinct value (10^7 customers: a few hundred values, not a Python
    # string per row); `codes` -1 (missing) takes the last slot
    codes, uniq = pd.factorize(s, use_na_sentinel=True)

    def free(v) -> bool:
        text = str(v).strip()
        if not text or text in categories:
            return False
        return (_width(text) > REASON_MAX_WIDTH or len(text.split()) > REASON_MAX_WORDS
                or looks_personal(text) is not None)

    bad = np.zeros(len(uniq) + 1, dtype=bool)
    bad[:-1] = [free(u) for u in uniq]
    if not bad.any():
        return s, 0, 0
    hit = bad[codes]
    return s.where(~hit, "other"), int(hit.sum()), int(bad.sum())


def key_problem(ids: pd.Series) -> tuple[str, int, int] | None:
    """Whether customer ids look like personal data: ``(what, n, of)`` when ``n`` of the
    ``of`` ids checked look like phone numbers, e-mails or ID numbers (``what``, the most
    common), else None. A customer id appears in every report that lists customers."""
    sample = _sample(ids)
    kinds = [k for k in (looks_personal(v) for v in pd.unique(sample)) if k]
    if not kinds:
        return None
    return max(set(kinds), key=kinds.count), len(kinds), int(sample.nunique())


def screen(tables: Mapping[str, pd.DataFrame | None], *, churn_categories: Iterable[str] = (),
           record: Mapping[str, Any] | None = None) -> tuple[dict[str, pd.DataFrame | None], dict]:
    """Drop personal columns from ``tables`` (new frames; inputs untouched) and say why.

    Every column of every table is checked by its header (:func:`header_reason`) and, unless
    it is one of the data model's columns, by its values (:func:`content_reason`); a column
    either marks is dropped. ``customers.churn_reason`` values that are free text (not one of
    ``churn_categories`` and longer than a category, or holding personal data) become
    ``"other"``. The names and descriptions of ``events`` keep their text with personal-looking
    parts masked. (A ``customer_id`` that looks like phone numbers is checked by the caller
    with :func:`key_problem`: validation refuses it.)

    Returns the screened tables and the record for ``meta["personal_data"]``:
    ``{"dropped": [{"table", "column", "reason", "found_by": "header"|"values"}, ...],
    "churn_reasons_reduced": {"rows": n, "values": k}}``, extending ``record`` (an earlier
    screening's record, so that screening twice keeps the first decisions).
    """
    record = dict(record or {})
    dropped = list(record.get("dropped", []))
    reduced = dict(record.get("churn_reasons_reduced") or {"rows": 0, "values": 0})
    categories = {str(c) for c in churn_categories} | {"other"}
    out: dict[str, pd.DataFrame | None] = {}
    for table, df in tables.items():
        if df is None:
            out[table] = df
            continue
        drop = []
        for col in df.columns:
            reason, by = header_reason(table, col), "header"
            key = unicodedata.normalize("NFKC", str(col)).casefold().strip()
            protected = key in _MODEL_COLUMNS or (table == "events" and key in _EVENT_COLUMNS)
            if reason is None and not protected:
                reason, by = content_reason(df[col]), "values"
            if reason is not None:
                drop.append(col)
                dropped.append({"table": table, "column": str(col), "reason": reason,
                                "found_by": by})
        df = df.drop(columns=drop) if drop else df
        if table == "customers" and "churn_reason" in df and _is_text(df["churn_reason"]):
            s, rows, values = _reduce_reasons(df["churn_reason"], categories)
            if rows:
                df = df.assign(churn_reason=s)
                reduced = {"rows": reduced["rows"] + rows, "values": reduced["values"] + values}
        if table == "events":
            for col in ("name", "description"):
                if col in df and _is_text(df[col]):
                    masked = df[col].map(lambda v: v if not isinstance(v, str) else mask(v))
                    if not masked.equals(df[col]):
                        df = df.assign(**{col: masked})
        out[table] = df
    return out, {"dropped": dropped, "churn_reasons_reduced": reduced}
