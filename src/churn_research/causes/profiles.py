"""High-churn profiles: the leaves of a shallow decision tree as readable rules with support,
churn rate and lift over the base rate (:func:`churn_profiles`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from churn_research.causes.frame import TIME_VARYING, customer_frame, default_drivers, text_codes
from churn_research.causes.rates import _is_indicator, _is_numeric
from churn_research.i18n import label_msg
from churn_research.model import ChurnData
from churn_research.stats import wilson_ci
from churn_research.wording.drivers import LOG2_SUFFIX


# =============================================================================================
# high-churn profiles
# =============================================================================================
def _fmt_num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def churn_profiles(data: ChurnData | pd.DataFrame, drivers: Sequence[str] | None = None, *,
                   max_depth: int = 3, min_support: float = 0.03, min_lift: float = 1.5,
                   horizon_months=None, study_start=None, alpha: float = 0.05,
                   random_state=0) -> pd.DataFrame:
    """Combinations of attributes with markedly higher churn: decision-tree rules.

    A shallow :class:`~sklearn.tree.DecisionTreeClassifier` on one row per customer (one-hot
    categorical drivers) splits customers into groups; each leaf is a rule such as
    ``contract = Month-to-month & internet_service = Fiber optic``.

    Parameters
    ----------
    data : ChurnData or DataFrame
    drivers : sequence of str, optional
        Customer columns (default: :func:`default_drivers` without time-varying ones).
    max_depth : int
        At most this many conditions per rule.
    min_support : float
        Smallest group, as a share of customers (also the tree's ``min_samples_leaf``).
    min_lift : float
        Leaves with at least this lift are flagged ``high_churn``.
    horizon_months, study_start
        Churn definition, see :func:`customer_frame`.
    alpha : float
    random_state : int

    Returns
    -------
    DataFrame
        ``rule, n, support, churned, churn_rate, ci_low, ci_high, lift, high_churn``, highest
        lift first; ``attrs["base_rate"]``.
    """
    if drivers is None:
        drivers = [d for d in default_drivers(data) if d not in TIME_VARYING]
    frame = customer_frame(data, study_start=study_start, horizon_months=horizon_months,
                           columns=drivers)
    drivers = [d for d in drivers if d in frame and d not in TIME_VARYING]
    rows = frame["eligible"].to_numpy(dtype=bool)
    for d in drivers:  # eligible customers with every driver known
        rows = rows & frame[d].notna().to_numpy()
    frame = frame.loc[rows, list(dict.fromkeys([*drivers, "outcome"]))]
    # the features, straight into the float32 matrix the tree works on (it converts any input
    # to float32): numeric drivers as they are, each level of a categorical one as a 0/1 column
    # in pd.get_dummies' order (sorted text of the levels)
    meta, levels, specs = {}, {}, []
    for d in drivers:
        s = frame[d]
        if _is_indicator(s):
            specs.append((d, None))
            meta[d] = ("indicator", d, None)
        elif _is_numeric(s):
            specs.append((d, None))
            if d.endswith(LOG2_SUFFIX):
                meta[d] = ("log2", d, None)
            elif bool(np.all(np.mod(s, 1) == 0)):
                meta[d] = ("integer", d, (int(s.min()), int(s.max())))
            else:
                meta[d] = ("numeric", d, None)
        else:
            text = text_codes(s)[1]
            levels[d] = sorted(set(text))
            position = np.array([levels[d].index(t) for t in text], dtype=np.intp)
            for k, lv in enumerate(levels[d]):
                name = f"{d}={lv}"
                specs.append((name, (d, position, k)))
                meta[name] = ("level", d, lv)
    names = [name for name, _ in specs]
    x = np.empty((len(frame), len(specs)), dtype=np.float32)
    cache: dict[str, np.ndarray] = {}
    for j, (name, level) in enumerate(specs):
        if level is None:
            x[:, j] = frame[name].to_numpy(dtype=float)
            continue
        d, position, k = level
        if d not in cache:
            cache.clear()
            cache[d] = position[text_codes(frame[d])[0]]
        x[:, j] = cache[d] == k
    cache.clear()
    y = frame["outcome"].to_numpy(dtype=int)
    del frame
    n = len(y)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(int(min_support * n), 5),
                                  criterion="entropy", random_state=random_state)
    tree.fit(x, y)
    t = tree.tree_
    paths: dict[int, list[tuple[str, bool, float]]] = {}
    stack = [(0, [])]
    while stack:
        node, conds = stack.pop()
        if t.children_left[node] == -1:
            paths[node] = conds
            continue
        f, thr = names[t.feature[node]], float(t.threshold[node])
        stack.append((t.children_left[node], [*conds, (f, False, thr)]))
        stack.append((t.children_right[node], [*conds, (f, True, thr)]))
    leaf = tree.apply(x)
    del x
    base = y.mean()
    rows = []
    for node, conds in paths.items():
        mask = leaf == node
        k, m = int(y[mask].sum()), int(mask.sum())
        rows.append({"rule": _rule_text(conds, meta, levels), "n": m, "support": m / n, "churned": k,
                     "churn_rate": k / m if m else np.nan})
    out = pd.DataFrame(rows)
    out["ci_low"], out["ci_high"] = wilson_ci(out["churned"], out["n"], alpha=alpha)
    out["lift"] = out["churn_rate"] / base
    out["high_churn"] = out["lift"] >= min_lift
    out = out.sort_values("lift", ascending=False).reset_index(drop=True)
    out.attrs["base_rate"] = float(base)
    return out


def _rule_text(conds: list[tuple[str, bool, float]], meta: Mapping[str, tuple],
               levels: Mapping[str, list[str]]) -> str:
    """Readable rule from a tree path (merging conditions on the same driver)."""
    if not conds:
        return label_msg("all customers")
    equal: dict[str, str] = {}
    not_equal: dict[str, list[str]] = {}
    bounds: dict[str, list[float]] = {}
    kinds: dict[str, tuple] = {}
    flags: dict[str, bool] = {}
    order: list[str] = []
    for feat, right, thr in conds:
        kind, driver, level = meta[feat]
        if driver not in order:
            order.append(driver)
        if kind == "level":
            if right:
                equal[driver] = level
            else:
                not_equal.setdefault(driver, []).append(level)
        elif kind == "indicator":
            flags[driver] = right
        else:
            kinds[driver] = (kind, level)
            lo, hi = bounds.get(driver, [-np.inf, np.inf])
            bounds[driver] = [max(lo, thr), hi] if right else [lo, min(hi, thr)]
    parts = []
    for d in order:
        if d in equal:
            parts.append(f"{d} = {equal[d]}")
        elif d in not_equal:
            lv = not_equal[d]
            rest = [x for x in levels.get(d, []) if x not in lv]
            if len(rest) == 1:
                parts.append(f"{d} = {rest[0]}")
                continue
            parts.append(f"{d} ≠ {lv[0]}" if len(lv) == 1 else f"{d} not in {{{', '.join(lv)}}}")
        elif d in flags:
            parts.append(f"{d} = {'yes' if flags[d] else 'no'}")
        else:
            parts.append(_bounds_text(d, *bounds[d], *kinds[d]))
    return " & ".join(parts)


def _bounds_text(d: str, lo: float, hi: float, kind: str, span) -> str:
    """``lo < d ≤ hi`` as a reader wants it: an integer driver in whole values (``d = 0``,
    ``d ≥ 3``, ``1 ≤ d ≤ 2``: the tree splits counts at 0.5, 1.5, ...), a log2(1 + x) driver
    as x itself (``first_amount ≤ 44``: the same customers, as log2 is monotone)."""
    if kind == "integer":
        vmin, vmax = span
        a = vmin if np.isinf(lo) else max(vmin, math.floor(lo) + 1)
        b = vmax if np.isinf(hi) else min(vmax, math.floor(hi))
        if a == b:
            return f"{d} = {a}"
        if a <= vmin:
            return f"{d} ≤ {b}"
        return f"{d} ≥ {a}" if b >= vmax else f"{a} ≤ {d} ≤ {b}"
    if kind == "log2":
        d = d.removesuffix(LOG2_SUFFIX)
        lo, hi = (v if np.isinf(v) else 2.0 ** v - 1 for v in (lo, hi))
    if np.isinf(lo):
        return f"{d} ≤ {_fmt_num(hi)}"
    if np.isinf(hi):
        return f"{d} > {_fmt_num(lo)}"
    return f"{_fmt_num(lo)} < {d} ≤ {_fmt_num(hi)}"
