"""Compare the key figures of two renderings of the same business (tests/test_notebooks.py and
the synthetic_zh check): the English ``synthetic`` reports and the Chinese ``synthetic_zh`` ones.

Keys name the Chinese export's free labels (region, plan) in Chinese; those are renamed back
before comparing. Numbers must agree to ``rtol`` (1e-4: iterative fits such as the AFT models
converge to the same optimum within their tolerance when the design's columns come in another
order, Chinese levels sorting differently; reports show 2–3 significant digits); text values (sentences, labels) are in each
report's language and are not compared; lists are compared element by element where numeric.
"""

from __future__ import annotations

import math
import re
from typing import Any

from churn_research.sources.chinese_export import FREE_LABELS, LEVELS

_BACK = {zh: en for col in FREE_LABELS for en, zh in LEVELS[col].items()}
_ZH = re.compile("|".join(map(re.escape, sorted(_BACK, key=len, reverse=True))))


def english_key(key: str) -> str:
    return _ZH.sub(lambda m: _BACK[m.group(0)], key)


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    return None


def differences(en: dict[str, Any], zh: dict[str, Any], *, rtol: float = 1e-4,
                atol: float = 1e-9) -> list[str]:
    """What differs between the English and the Chinese key figures (empty: the same)."""
    zh_en = {english_key(k): v for k, v in zh.items()}
    out = []
    for key in sorted(set(en) | set(zh_en)):
        if key not in en or key not in zh_en:
            out.append(f"{key}: only in {'English' if key in en else 'Chinese'}")
            continue
        a, b = en[key], zh_en[key]
        if isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                out.append(f"{key}: {len(a)} vs {len(b)} items")
            continue
        x, y = _num(a), _num(b)
        if x is None or y is None:
            if (x is None) != (y is None) and not (isinstance(a, str) and isinstance(b, str)):
                out.append(f"{key}: {a!r} vs {b!r}")
            continue
        if not (math.isclose(x, y, rel_tol=rtol, abs_tol=atol)):
            out.append(f"{key}: {a!r} vs {b!r}")
    return out
