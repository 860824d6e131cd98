"""The analyses of stage 50_clv as result objects: each section of the report calls one function
here and gets back an object holding its tables, the rules that decide what they say (which
segments level off, whether a sample is large, whether a churn rate was annualised) and its key
figures (``key_figures()``). The sentences are built from these objects in
:mod:`churn_research.narrate.clv`; the notebook only calls, displays and saves.

``sanity_checks``       the textbook worked examples the formulas must reproduce
``contractual_value``   retention curve -> CLV of a new customer, residual value, equity
``derl_analysis``       DERL by renewals under the sBG and read off the retention curve
``btyd_validation``     BG/NBD on a calibration / holdout split
``btyd_diagnostics``    its tracking plot and P(alive) vs holdout activity (and a risk model)
``btyd_value``          BG/NBD x Gamma-Gamma value of every customer
``churn_cost_analysis`` the yearly cost of churn measured on the data
``scenario_figures``    the key figures of :func:`retention_scenarios`
``money_at_risk``       the value expected to be lost to churn within 12 months (P(churn) x
                        value, with a bootstrap interval), and the flagged customers' share
``stage_figures``       the stage's key-figure dict, in the order the report builds it
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn_research.annual import AnnualChurn
from churn_research.clv.btyd import btyd_clv, frequency_fit, holdout_comparison, rfm_summary
from churn_research.clv.contractual import (
    contractual_clv,
    curve_derl,
    default_observed_from,
    fit_sbg,
    residual_clv,
    survival_curve,
)
from churn_research.clv.formulas import ChurnCost, churn_cost, period_discount_rate, simple_clv
from churn_research.clv.risk import (
    bgnbd_churn_probability,
    bootstrap_btyd,
    bootstrap_contractual,
    curve_churn_probability,
    normal_interval,
)
from churn_research.clv.scenarios import (
    churn_cost_inputs,
    default_calibration_end,
    recent_complainers,
    word_of_mouth,
)
from churn_research.clv.tracking import p_alive_activity, tracking_table, tracking_totals
from churn_research.durations import DAYS_PER_MONTH
from churn_research.i18n import _, _p, label, label_msg, language, money_unit, t
from churn_research.model import ChurnDataError, on_books
from churn_research.models.beta_geo import BetaGeo
from churn_research.models.gamma_gamma import GammaGamma
from churn_research.models.shifted_beta_geo import derl, sbg_eligibility
from churn_research.wording import scenario_name

#: polarisation below which the sBG is said to find no heterogeneity across customers
FLAT_POLARISATION = 0.01
#: customers above which a significant chi-square is read as "small misfits, large sample"
LARGE_SAMPLE = 10_000
#: share of the customers whose share of the value is reported ("the top 10% hold ...")
TOP_SHARE = 0.10
#: BTYD time units and their names
UNITS = {"D": label_msg("days"), "W": label_msg("weeks"), "M": label_msg("months")}
#: the key figures shown in the report's closing table
HEADLINE_KEYS = ("clv.mean", "customer_equity", "annual_cost_of_churn", "clv_new_customer.mean",
                 "money_at_risk.expected_loss")
#: column names of the result tables shown to readers (data labels, translated by label())
TABLE_LABELS = (label_msg("mean_tenure_months"), label_msg("mean_residual_clv"), label_msg("total"),
                label_msg("gamma"), label_msg("delta"), label_msg("reduction"),
                label_msg("churn_rate"), label_msg("customers_end"), label_msg("revenue"),
                label_msg("profit"), label_msg("extra_customers_end"), label_msg("extra_revenue"),
                label_msg("extra_profit"), label_msg("scenario"), label_msg("contractual"),
                label_msg("non-contractual"), label_msg("alpha"),
                label_msg("frequency"))
#: what the headline key figures are, for a reader (data labels: English readers see the keys)
HEADLINE_LABELS = (label_msg("clv.mean"), label_msg("customer_equity"),
                   label_msg("annual_cost_of_churn"), label_msg("clv_new_customer.mean"),
                   label_msg("money_at_risk.expected_loss"))


def _view(frame: pd.DataFrame, columns: dict | None = None, *, index_values: bool = True,
          index_name: str | None = None) -> pd.DataFrame:
    """A result table as a reader sees it: headers translated (``columns``: English header ->
    its translation; other headers through :func:`label`), index values through :func:`label`
    (segments, coded values) and the index name translated (``index_name``, else label)."""
    columns = columns or {}
    out = frame.copy()
    out.columns = [columns.get(c, label(c)) if isinstance(c, str) else c for c in out.columns]
    if index_values and isinstance(out.index, pd.MultiIndex):
        out.index = out.index.set_levels([[label(i) if isinstance(i, str) else i for i in level]
                                          for level in out.index.levels])
    elif index_values:
        out.index = pd.Index([label(i) if isinstance(i, str) else i for i in out.index],
                             name=out.index.name)
    if out.index.name is not None:
        out.index.name = index_name if index_name is not None else label(out.index.name)
    return out


def top_share(values: pd.Series, share: float = TOP_SHARE) -> float:
    """Share of the total held by the top ``share`` of the values (at least one value)."""
    values = pd.Series(values, dtype=float)
    return float(values.nlargest(max(int(len(values) * share), 1)).sum() / values.sum())


# ----------------------------------------------------------------------------------------
# sanity checks
# ----------------------------------------------------------------------------------------
#: DERL of Table 3 of Fader & Hardie (2010): gamma=3.80, delta=15.20, d=10%, 0..4 renewals
TABLE3_DERL = (3.31, 3.45, 3.59, 3.72, 3.84)


def sanity_checks() -> pd.DataFrame:
    """The textbook worked examples, computed and expected; raises if one is not reproduced.

    Returns a frame with ``check``, ``computed``, ``expected`` and ``ok``; ``attrs`` holds
    ``simple_clv_profit`` and ``churn_cost_lost_profit`` (the key figures).
    """
    simple = simple_clv(100, 50, 10, 0.10)
    cost = churn_cost(5000, 0.05, 8000, 0.10)
    table3 = [float(derl(3.80, 15.20, 0.10, n)) for n in range(len(TABLE3_DERL))]
    out = pd.DataFrame([
        (_("simple CLV: revenue per year"), simple.annual_revenue, 5000),
        (_("simple CLV: revenue over 10 years"), simple.lifetime_revenue, 50000),
        (_("simple CLV: profit at 10% margin"), simple.clv, 5000),
        (_("churn cost: customers lost"), cost.lost_customers, 250),
        (_("churn cost: revenue lost"), cost.lost_revenue, 2_000_000),
        (_("churn cost: profit lost"), cost.lost_profit, 200_000),
        *[(t("DERL, gamma=3.80, delta=15.20, d=10%, {n} renewals", n=n), round(v, 2), ref)
          for n, (v, ref) in enumerate(zip(table3, TABLE3_DERL, strict=True))],
    ], columns=["check", "computed", "expected"])
    out["ok"] = np.isclose(out["computed"], out["expected"], rtol=0, atol=1e-9)
    if not out["ok"].all():
        raise AssertionError(f"worked examples not reproduced:\n{out[~out['ok']]}")
    out.attrs.update(simple_clv_profit=simple.clv, churn_cost_lost_profit=cost.lost_profit)
    return out


def _ESTIMATE_HEADERS() -> dict:
    """Headers of a model's parameter table (``summary()``), in the report language."""
    return {"estimate": _("estimate"), "se": _("se"), "lower": _("lower"), "upper": _("upper")}


def _with_unit(header: str, currency: str | None = "") -> str:
    """A money column's header: in Chinese with its unit (元), in English as it always read."""
    return header if language() == "en" else f"{header}（{money_unit(currency)}）"


def sanity_table(checks: pd.DataFrame) -> pd.DataFrame:
    """:func:`sanity_checks` as a reader sees it (headers in the report language)."""
    out = checks.copy()
    if language() != "en":          # English reports show the booleans as the renderer does
        out["ok"] = [label("yes") if ok else label("no") for ok in out["ok"]]
    return _view(out, {"check": _("check"), "computed": _("computed"), "expected": _("expected"),
                       "ok": _p("check", "ok")}, index_values=False)


def sanity_figures(checks: pd.DataFrame) -> dict:
    return {"sanity": {"all_ok": bool(checks["ok"].all()),
                       "simple_clv_profit": checks.attrs["simple_clv_profit"],
                       "churn_cost_lost_profit": checks.attrs["churn_cost_lost_profit"]}}


# ----------------------------------------------------------------------------------------
# contractual value
# ----------------------------------------------------------------------------------------
def has_contractual_value(data, value_col: str | None) -> bool:
    """Survival-based value needs contractual data with a revenue-per-month column."""
    return data.kind == "contractual" and bool(value_col) and value_col in data.customers.columns


def has_btyd(data) -> bool:
    """BG/NBD and Gamma-Gamma need a non-contractual purchase log."""
    return data.kind == "non-contractual" and data.has("transactions")


@dataclass
class ContractualValue:
    """Retention curve, CLV of a new customer by segment and residual value of the active."""

    by: str | None
    observed_from: pd.Timestamp | None
    regime: str                      # "event" (since the business change), "records", "all"
    curve: pd.DataFrame
    segments: pd.DataFrame           # contractual_clv: one row per segment
    residual: pd.DataFrame           # residual_clv: one row per active customer
    margin: float
    discount_rate: float
    value_col: str = "monthly_revenue"
    tail: str = "weibull"
    min_at_risk: int = 30

    @property
    def new_mean(self) -> float:
        s = self.segments
        return float((s["clv"] * s["customers"]).sum() / s["customers"].sum())

    @property
    def values(self) -> pd.Series:
        return self.residual["residual_clv"]

    def values_at(self, customers: pd.DataFrame, date) -> pd.Series:
        """Residual value of the customers on the books on ``date`` (an earlier snapshot, e.g. a
        campaign's date), from the same retention curve: what keeping each of them was worth."""
        return residual_clv(customers, curve=self.curve, observation_end=date,
                            value_col=self.value_col, margin=self.margin,
                            discount_rate=self.discount_rate)["residual_clv"]

    @property
    def equity(self) -> float:
        return float(self.values.sum())

    def segment_table(self, currency: str | None = "") -> pd.DataFrame:
        return _view(self.segments, {
            "customers": _("customers"),
            "value_per_period": _with_unit(_("revenue per month"), currency),
            "expected_lifetime": _("expected lifetime (months)"),
            "discounted_lifetime": _("discounted lifetime (months)"),
            "clv": _with_unit(_("CLV of a new customer"), currency),
            "tail_share": _("share from tail")},
            index_name=_p("clv", "segment") if self.segments.index.name == "segment" else None)

    def residual_by_segment(self, currency: str | None = "") -> pd.DataFrame:
        table = self.residual.groupby("segment").agg(
            customers=("residual_clv", "size"), mean_tenure_months=("tenure", "mean"),
            mean_residual_clv=("residual_clv", "mean"), total=("residual_clv", "sum"))
        return _view(table, {"customers": _("customers"),
                             "mean_residual_clv": _with_unit(label("mean_residual_clv"), currency),
                             "total": _with_unit(label("total"), currency)},
                     index_name=_p("clv", "segment"))

    def key_figures(self) -> dict:
        return {"clv_new_customer": {"mean": self.new_mean, "by_segment": self.segments["clv"].to_dict()},
                "clv": {"mean": float(self.values.mean()), "median": float(self.values.median()),
                        "definition": "residual lifetime value of active customers (survival curve)"},
                "customer_equity": self.equity}


def contractual_value(data, *, value_col: str, segment_by: str | None, after_event: bool,
                      tail: str, min_at_risk: int, margin: float,
                      discount_rate: float) -> ContractualValue | None:
    """The retention curve and the values built on it; None when :func:`has_contractual_value`
    is false."""
    if not has_contractual_value(data, value_col):
        return None
    observed_from = default_observed_from(data, after_event=after_event)
    by = segment_by if segment_by in data.customers.columns else None
    curve = survival_curve(data.customers, observation_end=data.observation_end, by=by,
                           tail=tail, min_at_risk=min_at_risk, observed_from=observed_from)
    seg = contractual_clv(data.customers, curve=curve, value_col=value_col, margin=margin,
                          discount_rate=discount_rate)
    residual = residual_clv(data.customers, curve=curve, observation_end=data.observation_end,
                            value_col=value_col, margin=margin, discount_rate=discount_rate)
    regime = ("all" if observed_from is None else
              "event" if data.event_date is not None and observed_from == data.event_date else
              "records")
    return ContractualValue(by, observed_from, regime, curve, seg, residual, margin, discount_rate,
                            value_col, tail, min_at_risk)


# ----------------------------------------------------------------------------------------
# DERL
# ----------------------------------------------------------------------------------------
def rises_until(table: pd.DataFrame, tol: float = 1e-9) -> dict:
    """For each column of a DERL table (index: renewals), the renewals after which it stops
    rising: the first row from which no later row is higher (within ``tol``); None when it
    rises up to the last row."""
    out = {}
    for col in table.columns:
        v = table[col].to_numpy(dtype=float)
        later_max = np.maximum.accumulate(v[::-1])[::-1]     # max of v[i:], per i
        stop = next((i for i in range(len(v) - 1) if later_max[i + 1] <= v[i] + tol), None)
        out[col] = None if stop is None else table.index[stop]
    return out


@dataclass
class DerlResult:
    """DERL by renewals: sBG fit per segment, its DERL and the retention curve's.

    When :func:`~churn_research.models.shifted_beta_geo.sbg_eligibility` says the sBG cannot
    be fitted to the data, ``reason`` says why and the tables are None (see
    :meth:`not_available`): the section then reads one line and no sBG figure is kept.
    """

    sbg: pd.DataFrame | None
    sbg_table: pd.DataFrame | None   # index renewals, one column per segment
    curve_table: pd.DataFrame | None  # same, read off the retention curve
    discount_rate: float
    reason: str | None = None        # why the sBG cannot be fitted (None: it can)

    @classmethod
    def not_available(cls, reason: str, discount_rate: float) -> DerlResult:
        return cls(None, None, None, discount_rate, reason)

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def renewals(self) -> np.ndarray:
        return self.sbg_table.index.to_numpy()

    @property
    def flat_segments(self) -> list:
        """Segments where the sBG finds no heterogeneity (DERL constant in tenure)."""
        return self.sbg.index[self.sbg["polarisation"] < FLAT_POLARISATION].tolist()

    @property
    def curve_rises(self) -> pd.Series:
        """Per segment: the retention curve's DERL is higher at the last renewals than at the first."""
        first, last = self.renewals[0], self.renewals[-1]
        return self.curve_table.loc[last] > self.curve_table.loc[first]

    @property
    def curve_levels_off(self) -> dict:
        """Per segment: the renewals from which the curve's DERL stops rising (None: keeps rising)."""
        return rises_until(self.curve_table)

    def parameters(self) -> pd.DataFrame:
        table = self.sbg[["gamma", "delta", "mean_churn", "polarisation", "customers"]]
        return _view(table, {"mean_churn": _("mean monthly churn at acquisition"),
                             "polarisation": _("polarisation"), "customers": _("customers")},
                     index_name=_p("clv", "segment") if table.index.name == "segment" else None)

    def table(self) -> pd.DataFrame:
        return pd.concat({"sBG": _view(self.sbg_table, index_name=_("renewals")),
                          _("retention curve"): _view(self.curve_table, index_name=_("renewals"))},
                         axis=1)

    def key_figures(self) -> dict:
        if not self.available:
            return {"sbg_not_available": self.reason}
        return {"derl": {str(seg): {f"renewals_{n}": float(self.sbg_table.loc[n, seg])
                                    for n in self.renewals} for seg in self.sbg_table.columns},
                "sbg": {str(seg): {"gamma": row["gamma"], "delta": row["delta"]}
                        for seg, row in self.sbg.iterrows()}}


def derl_analysis(data, value: ContractualValue | None, *, renewals: Sequence[int],
                  discount_rate: float) -> DerlResult | None:
    """sBG per segment of ``value`` and DERL at ``renewals``; None without contractual value.

    The sBG is fitted only where :func:`~churn_research.models.shifted_beta_geo.sbg_eligibility`
    (the rule the survival stage applies to its cohort projection) allows it, on the exits
    from ``value.observed_from`` on; otherwise, or when every segment's fit runs to the
    geometric limit, the result is :meth:`DerlResult.not_available` with the rule's reason.
    """
    if value is None:
        return None
    eligible, reason = sbg_eligibility(data, observed_from=value.observed_from)
    if not eligible:
        return DerlResult.not_available(reason, discount_rate)
    d_month = period_discount_rate(discount_rate, DAYS_PER_MONTH)
    sbg = fit_sbg(data.customers, observation_end=data.observation_end,
                  observed_from=value.observed_from, by=value.by)
    eligible, reason = sbg_eligibility(data, observed_from=value.observed_from, fits=sbg)
    if not eligible:
        return DerlResult.not_available(reason, discount_rate)
    renewals = np.asarray(renewals, dtype=int)
    table = pd.DataFrame({seg: derl(row["gamma"], row["delta"], d_month, renewals)
                          for seg, row in sbg.iterrows()},
                         index=pd.Index(renewals, name="renewals"))
    return DerlResult(sbg, table, curve_derl(value.curve, renewals, discount_rate=discount_rate),
                      discount_rate)


# ----------------------------------------------------------------------------------------
# non-contractual purchasing
# ----------------------------------------------------------------------------------------
@dataclass
class BtydValidation:
    """BG/NBD fitted on a calibration period and compared with the holdout period."""

    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    split: pd.DataFrame
    model: BetaGeo
    holdout: pd.DataFrame
    histogram: pd.DataFrame
    unit: str
    fit_rows: int | None = None      # distinct (x, t_x, T) rows of the fit (None: per customer)

    @property
    def relative_error(self) -> float:
        return float(self.holdout["predicted_total"].sum() / self.holdout["actual_total"].sum() - 1)

    @property
    def large_sample(self) -> bool:
        return len(self.split) > LARGE_SAMPLE

    def model_summary(self) -> pd.DataFrame:
        """The calibration fit's parameters as a reader sees them."""
        return _view(self.model.summary(), _ESTIMATE_HEADERS())

    def holdout_table(self) -> pd.DataFrame:
        """Holdout purchases by calibration-period frequency, headers in the report language."""
        return _view(self.holdout, {"customers": _("customers"), "actual": _("actual"),
                                    "predicted": _("predicted"),
                                    "actual_total": _("actual total"),
                                    "predicted_total": _("predicted total")},
                     index_name=label("frequency") if self.holdout.index.name == "frequency"
                     else None)

    def key_figures(self) -> dict:
        h = self.holdout
        return {"holdout": {"calibration_end": self.calibration_end,
                            "actual_total": h["actual_total"].sum(),
                            "predicted_total": h["predicted_total"].sum(),
                            "relative_error": self.relative_error,
                            "correlation": h.attrs["correlation"],
                            "cumulative_forecast_error": h.attrs["cumulative_forecast_error"],
                            "chi2": self.histogram.attrs["chi2"],
                            "chi2_p_value": self.histogram.attrs["p_value"]}}


def btyd_validation(data, *, calibration_end=None, freq: str = "W",
                    statistics: dict | None = None) -> BtydValidation | None:
    """Calibration / holdout validation of the BG/NBD; None when :func:`has_btyd` is false.

    ``statistics``: the engine's sufficient statistics up to the same calibration end
    (``churn_research.sources.engine.btyd_inputs``); the BG/NBD is fitted on them (counts as
    weights), else on the per-customer summary."""
    if not has_btyd(data):
        return None
    cal_end = btyd_calibration_end(data, calibration_end)
    split = rfm_summary(data.transactions, calibration_end=cal_end,
                        observation_end=data.observation_end, freq=freq)
    model, rows = _fit_bgnbd(split, statistics)
    return BtydValidation(cal_end, pd.Timestamp(data.observation_end), split, model,
                          holdout_comparison(split, model), frequency_fit(split, model), UNITS[freq],
                          rows)


def btyd_calibration_end(data, calibration_end=None) -> pd.Timestamp | None:
    """The end of the calibration period of :func:`btyd_validation`: ``calibration_end``, by
    default the midpoint of the purchase log; None when :func:`has_btyd` is false."""
    if not has_btyd(data):
        return None
    return (pd.Timestamp(calibration_end) if calibration_end is not None
            else default_calibration_end(data.transactions, data.observation_end))


def _check_statistics(statistics: dict, summary: pd.DataFrame, name: str, customers: int) -> pd.DataFrame:
    """The grouped rows of ``statistics[name]``, checked to count the customers of ``summary``."""
    grouped = statistics[name]
    if int(grouped["customers"].sum()) != customers:
        raise ChurnDataError(
            f"the {name} statistics count {int(grouped['customers'].sum())} customers, the purchase "
            f"log {customers}.", table="transactions",
            fix="compute the statistics and the summary on the same data, calibration end and freq.")
    return grouped


def _fit_bgnbd(summary: pd.DataFrame, statistics: dict | None) -> tuple[BetaGeo, int | None]:
    """BG/NBD on the grouped (x, t_x, T) rows of ``statistics`` (counts as weights; the
    likelihood is that of the customers), else on the customers of ``summary``; and the number
    of rows it was fitted on (None: one per customer)."""
    if statistics is None:
        return BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"]), None
    g = _check_statistics(statistics, summary, "bgnbd", len(summary))
    return BetaGeo().fit(g["frequency"], g["recency"], g["T"], weights=g["customers"]), len(g)


def _fit_gamma_gamma(summary: pd.DataFrame, statistics: dict | None) -> tuple[GammaGamma, int | None]:
    """Gamma-Gamma on the grouped (x, m) rows of ``statistics``, else on ``summary``."""
    if statistics is None:
        return GammaGamma().fit(summary["frequency"], summary["monetary_value"]), None
    repeat = int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
    g = _check_statistics(statistics, summary, "gamma_gamma", repeat)
    return GammaGamma().fit(g["frequency"], g["monetary_value"], weights=g["customers"]), len(g)


@dataclass
class BtydDiagnostics:
    """The BG/NBD calibration fit over calibration and holdout: tracking and P(alive)."""

    tracking: pd.DataFrame
    totals: pd.DataFrame
    auc: pd.DataFrame
    bands: pd.DataFrame
    unit: str

    def totals_table(self) -> pd.DataFrame:
        """Calibration and holdout repeat transactions, actual vs expected, reader's headers."""
        out = self.totals.copy()
        out.index = [_("calibration period"), _("holdout period")]
        out["relative_error"] = [f"{v:+.1%}" for v in out["relative_error"]]
        return _view(out, {"actual": _("actual"), "expected": _("expected (BG/NBD)"),
                           "error": _("error (expected - actual)"),
                           "relative_error": _("relative error")}, index_values=False)

    def auc_table(self) -> pd.DataFrame:
        """AUC of each score for a purchase in the holdout, rows named for the reader."""
        names = {"p_alive": _("P(alive) at the calibration end, all customers"),
                 "p_alive_repeat": _("P(alive), repeat buyers only"),
                 "expected_holdout": _("BG/NBD expected holdout purchases"),
                 "risk_model": _("risk model of 40_segments (1 - churn risk, cross-validated)")}
        out = self.auc.copy()
        out.index = [names.get(i, i) for i in out.index]
        return _view(out, {"auc": _("AUC (purchase in the holdout)"), "customers": _("customers")},
                     index_values=False)

    def bands_table(self) -> pd.DataFrame:
        """Customers by P(alive) band: share who bought in the holdout, reader's headers."""
        out = self.bands.copy()
        out.index = [_("no repeat purchase (P(alive) = 1)") if i == "no repeat purchase" else i
                     for i in out.index]
        return _view(out, {"customers": _("customers"), "mean_p_alive": _("mean P(alive)"),
                           "active_share": _("share who bought in the holdout"),
                           "mean_expected": _("mean expected holdout purchases")},
                     index_values=False)

    def key_figures(self) -> dict:
        h = self.totals.loc["holdout"]
        return {"btyd_tracking": {
            "holdout_actual": h["actual"], "holdout_expected": h["expected"],
            "holdout_relative_error": h["relative_error"],
            "calibration_relative_error": self.totals.loc["calibration", "relative_error"],
            **{f"auc_{k}": v for k, v in self.auc["auc"].items()}}}


def btyd_diagnostics(data, validation: BtydValidation | None, *,
                     risk_active: pd.Series | None = None) -> BtydDiagnostics | None:
    """Tracking plot data and P(alive) vs holdout activity for a :class:`BtydValidation`.

    ``risk_active``: another model's score on the calibration customers where higher means more
    likely to buy in the holdout (the notebook passes 1 - the 40_segments risk model's
    cross-validated churn probability); shown as ``risk_model``.
    """
    if validation is None:
        return None
    track = tracking_table(data.transactions, validation.split, validation.model)
    scores = None if risk_active is None else {"risk_model": risk_active}
    auc, bands = p_alive_activity(validation.split, validation.model, scores=scores)
    return BtydDiagnostics(track, tracking_totals(track), auc, bands, validation.unit)


@dataclass
class BtydValue:
    """BG/NBD x Gamma-Gamma value of every customer, refitted on all purchases."""

    summary: pd.DataFrame
    bg: BetaGeo
    gg: GammaGamma
    value: pd.DataFrame              # btyd_clv: p_alive, expected_purchases, clv per customer
    horizon_years: float
    unit: str
    observation_end: pd.Timestamp
    margin: float = 1.0
    discount_rate: float = 0.10
    fit_rows: dict | None = None     # distinct rows of the fits, {"bgnbd": n, "gamma_gamma": n}
    spend_correlation: float = field(init=False)

    def __post_init__(self):
        repeat = self.summary[self.summary["frequency"] > 0]
        self.spend_correlation = float(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])

    @property
    def values(self) -> pd.Series:
        return self.value["clv"]

    @property
    def equity(self) -> float:
        return float(self.values.sum())

    @property
    def p_alive_repeat(self) -> float:
        return float(self.value.loc[self.summary["frequency"] > 0, "p_alive"].mean())

    @property
    def share_no_repeat(self) -> float:
        return float((self.summary["frequency"] == 0).mean())

    @property
    def max_frequency_shown(self) -> int:
        """Frequencies shown in the P(alive) matrix: up to the 99th percentile, at most 30."""
        return int(min(self.summary["frequency"].quantile(0.99), 30))

    def parameters(self) -> pd.DataFrame:
        return _view(pd.concat({"BG/NBD": self.bg.summary(), "Gamma-Gamma": self.gg.summary()}),
                     _ESTIMATE_HEADERS())

    def key_figures(self) -> dict:
        bg, gg, h = self.bg, self.gg, self.horizon_years
        rows = self.fit_rows or {}
        return {"bgnbd": {**bg.params_.to_dict(), "log_likelihood": bg.log_likelihood_,
                          "fit_seconds": bg.fit_seconds_, "customers": bg.n_customers_,
                          **({"fit_rows": rows["bgnbd"]} if rows else {})},
                "gamma_gamma": {**gg.params_.to_dict(), "mean_spend": gg.mean_spend_,
                                "customers": gg.n_customers_,
                                **({"fit_rows": rows["gamma_gamma"]} if rows else {})},
                "clv": {"mean": float(self.values.mean()), "median": float(self.values.median()),
                        "horizon_years": h, "p_alive_mean": float(self.value["p_alive"].mean()),
                        "definition": f"{h}-year BG/NBD x Gamma-Gamma value"},
                "customer_equity": self.equity}


def btyd_value(data, *, freq: str = "W", horizon_years: float = 3, margin: float,
               discount_rate: float, statistics: dict | None = None) -> BtydValue | None:
    """BG/NBD and Gamma-Gamma on all purchases; None when :func:`has_btyd` is false.

    ``statistics``: the engine's sufficient statistics up to the observation end
    (``churn_research.sources.engine.btyd_inputs``): the models are fitted on their distinct
    rows with counts as weights (the same likelihood as the customers'); without them, on the
    per-customer summary. The per-customer values always come from that summary."""
    if not has_btyd(data):
        return None
    full = rfm_summary(data.transactions, calibration_end=data.observation_end, freq=freq)
    bg, bg_rows = _fit_bgnbd(full, statistics)
    gg, gg_rows = _fit_gamma_gamma(full, statistics)
    value = btyd_clv(full, bg=bg, gg=gg, horizon_years=horizon_years, margin=margin,
                      discount_rate=discount_rate)
    rows = None if statistics is None else {"bgnbd": bg_rows, "gamma_gamma": gg_rows}
    return BtydValue(full, bg, gg, value, horizon_years, UNITS[freq], pd.Timestamp(data.observation_end),
                     margin, discount_rate, rows)


# ----------------------------------------------------------------------------------------
# cost of churn, scenarios, value at risk
# ----------------------------------------------------------------------------------------
@dataclass
class ChurnCostResult:
    """The yearly cost of churn, from the annual churn and revenue measured on the data."""

    inputs: dict                     # churn_cost_inputs
    cost: ChurnCost
    kind: str
    inactivity_days: int
    observation_end: pd.Timestamp
    word_of_mouth: dict | None = None    # the referral scenario (off: None)
    margin: float = np.nan               # the profit margin the cost applies

    @property
    def annual(self) -> AnnualChurn:
        return self.inputs["annual"]

    @property
    def lost_profit_interval(self) -> tuple[float, float]:
        """The yearly profit lost at the two ends of the annual churn's 95% interval: the cost is
        proportional to the rate; the revenue per customer and the margin are taken as given,
        so the interval is the churn rate's uncertainty alone."""
        per_rate = self.inputs["active"] * self.revenue * self.margin
        return (float(per_rate * self.annual.ci_low), float(per_rate * self.annual.ci_high))

    @property
    def annual_churn(self) -> float:
        """The rate the cost and the scenarios apply."""
        return self.annual.rate

    @property
    def revenue(self) -> float:
        return float(self.inputs["annual_revenue_per_customer"])

    def table(self, currency: str | None = "") -> pd.DataFrame:
        """The cost lines as a reader sees them: whole customers and whole currency units."""
        lines = {"lost customers": _("lost customers"),
                 "lost revenue": _with_unit(_("lost revenue"), currency),
                 "lost profit": _with_unit(_("lost profit"), currency),
                 "retention cost per customer": _with_unit(_("retention cost per customer"), currency),
                 "acquisition cost per customer": _with_unit(_("acquisition cost per customer"),
                                                             currency),
                 "replacement cost": _with_unit(_("replacement cost"), currency),
                 "retention cost": _with_unit(_("retention cost"), currency)}
        table = (self.cost.to_frame().round(0).astype("int64")
                 .rename(index=lambda s: s.replace("_", " ")))
        table = table.rename(index=lines)
        table.columns = [_("value") if c == "value" else c for c in table.columns]
        if self.word_of_mouth is not None:  # an assumption, not a measurement: labelled so
            wom = self.word_of_mouth
            rows = {_("scenario: referrals a year the lost customers would have brought"):
                    wom["lost_referrals"]}
            if wom["silent_dissatisfied"]:
                rows[_("scenario: referrals a year forgone by silent dissatisfied customers")] = \
                    wom["forgone_referrals"]
            rows[_with_unit(_("scenario: cost of winning as many customers otherwise"),
                            currency)] = wom["cost"]
            extra = pd.DataFrame({table.columns[0]: [int(round(v)) for v in rows.values()]},
                                 index=list(rows))
            table = pd.concat([table, extra])
        return table

    def key_figures(self) -> dict:
        return {"annual_cost_of_churn": self.cost.lost_profit,
                **self.annual.key_figures(),
                "cost_of_churn": {**self.cost.key_figures(), "annual_churn_rate": self.annual_churn,
                                  "lost_profit_ci_low": self.lost_profit_interval[0],
                                  "lost_profit_ci_high": self.lost_profit_interval[1],
                                  "customers_active": self.inputs["active"],
                                  "annual_revenue_per_customer": self.revenue,
                                  **({} if self.word_of_mouth is None else
                                     {"word_of_mouth_scenario": dict(self.word_of_mouth)})}}


def churn_cost_analysis(data, *, months: int, value_col: str | None, margin: float,
                        acquisition_cost_multiple: float, retention_cost_months: float,
                        by: str | None = None, referral_rate: float | None = None,
                        complaint_multiplier: float | None = None, engine=None) -> ChurnCostResult:
    """:func:`churn_cost_inputs` and :func:`churn_cost`: the dataset's annual churn times the
    revenue per customer, on the customers active now. With ``referral_rate`` (off: None), the
    word-of-mouth scenario (:func:`churn_research.clv.scenarios.word_of_mouth`) on top, using
    ``complaint_multiplier`` and the active customers who complained in the last year when
    given (and the data have complaints). ``engine``: as :func:`churn_cost_inputs`."""
    inputs = churn_cost_inputs(data, months=months, value_col=value_col or "", by=by,
                               engine=engine)
    revenue = inputs["annual_revenue_per_customer"]
    cost = churn_cost(inputs["active"], inputs["annual"].rate, revenue, margin,
                      acquisition_cost_multiple,
                      retention_cost_per_customer=retention_cost_months * revenue / 12)
    wom = None
    if referral_rate is not None:
        complainers = recent_complainers(data)
        wom = word_of_mouth(cost.lost_customers, cost.acquisition_cost_per_customer,
                            referral_rate=referral_rate,
                            complaint_multiplier=complaint_multiplier,
                            complainers=complainers, active=inputs["active"])
    return ChurnCostResult(inputs, cost, data.kind, data.inactivity_days,
                           pd.Timestamp(data.observation_end), wom, margin=float(margin))


def scenario_figures(scenarios: pd.DataFrame, *, base_customers: int, years: int) -> dict:
    """Key figures of :func:`retention_scenarios` (``churn -5 pts`` -> ``churn_minus_5_pts``)."""
    def key(name: str) -> str:
        return name.replace("churn -", "churn_minus_").replace(" pts", "_pts").replace(".", "_")
    return {"scenario_base_customers": base_customers, "scenario_years": years,
            "scenarios": {key(name): {c: row[c] for c in ("churn_rate", "revenue", "profit",
                                                          "extra_profit", "extra_revenue")}
                          for name, row in scenarios.iterrows()}}


def can_flag(design: str) -> bool:
    """The early-warning flags (value tiers, signals) need activity history: a prospective
    design (transactions before the snapshot)."""
    return design == "prospective"


def flagged_customers(*, active: pd.Series, tiers: pd.Series, n_signals: pd.Series) -> pd.Series:
    """The active customers in the *at risk* tier or with any early-warning signal (bool,
    indexed by customer id)."""
    return (active.astype(bool) & ((tiers == "at risk") | (n_signals > 0))).rename("flagged")


@dataclass
class MoneyAtRisk:
    """Expected value lost to churn within ``horizon_months`` if nothing changes.

    ``per_customer`` (one row per active customer valued by the model): ``segment``,
    ``p_churn`` (probability of leaving within the horizon, given a customer now),
    ``value`` (the model's value of the customer), ``expected_loss`` (``p_churn x value``;
    for the BG/NBD ``P(dropout within the horizon | alive) x value``, see
    :func:`churn_research.clv.risk.bgnbd_churn_probability`) and ``flagged`` (None without
    flags). ``replicates``: the bootstrap totals of the whole base and of the flagged.
    """

    per_customer: pd.DataFrame
    horizon_months: int
    model: str                       # "retention curve" or "BG/NBD"
    replicates: pd.DataFrame         # columns "all", "flagged" (NaN without flags)
    snapshot: bool
    level: float = 0.95

    @property
    def has_flags(self) -> bool:
        return bool(self.per_customer["flagged"].notna().any())

    @property
    def expected_loss(self) -> float:
        return float(self.per_customer["expected_loss"].sum())

    @property
    def base_value(self) -> float:
        return float(self.per_customer["value"].sum())

    @property
    def ci(self) -> tuple[float, float]:
        return normal_interval(self.expected_loss, self.replicates["all"], level=self.level)

    def _flagged(self) -> pd.DataFrame:
        return self.per_customer[self.per_customer["flagged"].fillna(False).astype(bool)]

    @property
    def flagged_expected_loss(self) -> float | None:
        return float(self._flagged()["expected_loss"].sum()) if self.has_flags else None

    @property
    def flagged_ci(self) -> tuple[float, float] | None:
        if not self.has_flags:
            return None
        return normal_interval(self.flagged_expected_loss, self.replicates["flagged"], level=self.level)

    @property
    def mean_p_churn(self) -> float:
        return float(self.per_customer["p_churn"].mean())

    def table(self) -> pd.DataFrame:
        """Customers, value, mean P(churn within the horizon) and expected loss: per segment of
        the value model (if any), flagged and not flagged (if flags exist), and all."""
        pc = self.per_customer
        groups = []
        if pc["segment"].nunique() > 1:
            groups += [(str(seg), g) for seg, g in pc.groupby("segment", sort=True)]
        if self.has_flags:
            flagged = pc["flagged"].fillna(False).astype(bool)
            groups += [("flagged at risk", pc[flagged]), ("not flagged", pc[~flagged])]
        groups.append(("all active customers", pc))
        total = self.expected_loss
        h = self.horizon_months
        rows = {name: {"customers": len(g), "value": g["value"].sum(),
                       f"mean P(churn within {h} months), %": 100 * g["p_churn"].mean(),
                       f"expected loss within {h} months": g["expected_loss"].sum(),
                       "share of the expected loss, %":
                           100 * g["expected_loss"].sum() / total if total else np.nan}
                for name, g in groups}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("group")

    def view(self, currency: str | None = "") -> pd.DataFrame:
        """:meth:`table` as a reader sees it (headers and group names in the report language)."""
        h = self.horizon_months
        table = self.table()
        table.index = [{"flagged at risk": _("flagged at risk"), "not flagged": _("not flagged"),
                        "all active customers": _("all active customers")}.get(i, label(i))
                       for i in table.index]
        table.index.name = _("group")
        table.columns = [
            _("customers"), _with_unit(_("value"), currency),
            t("mean P(churn within {months} months), %", months=h),
            _with_unit(t("expected loss within {months} months", months=h), currency),
            _("share of the expected loss, %")]
        return table

    def key_figures(self) -> dict:
        lo, hi = self.ci
        out = {"expected_loss": self.expected_loss, "ci_low": lo, "ci_high": hi,
               "horizon_months": self.horizon_months, "customers": len(self.per_customer),
               "base_value": self.base_value, "mean_p_churn": self.mean_p_churn,
               "bootstrap_replicates": len(self.replicates)}
        if self.has_flags:
            flo, fhi = self.flagged_ci
            out.update(flagged_expected_loss=self.flagged_expected_loss,
                       flagged_ci_low=flo, flagged_ci_high=fhi,
                       flagged_customers=len(self._flagged()))
        return {"money_at_risk": out}


def money_at_risk(data, *, value: ContractualValue | None = None, btyd: BtydValue | None = None,
                  flagged: pd.Series | None = None, horizon_months: int = 12, n_boot: int = 30,
                  random_state: int = 0) -> MoneyAtRisk | None:
    """Expected value lost to churn within ``horizon_months``: ``P(churn) x value`` for every
    active customer, from the model that values them; None without a per-customer value.

    Contractual data: the retention curve of ``value`` conditional on each customer's tenure,
    ``1 - S(tau + h) / S(tau)``, times their residual value. Non-contractual data: the BG/NBD
    probability that a customer alive now drops out within the horizon, times the BG/NBD x
    Gamma-Gamma value of ``btyd`` (see :func:`churn_research.clv.risk.bgnbd_churn_probability`).
    The active base is the customers still customers at the observation end (no end date by
    then). The 95% interval comes from ``n_boot`` refits of the model on customers resampled
    with replacement (seed ``random_state``), each evaluated on the actual customers
    (:func:`churn_research.clv.risk.normal_interval`): the model's uncertainty, not who
    actually leaves. ``flagged`` (:func:`flagged_customers`) adds the flagged customers' share.
    """
    if value is None and btyd is None:
        return None
    h = int(horizon_months)
    if value is not None:
        res = value.residual
        per = pd.DataFrame({"segment": res["segment"].astype(str),
                            "p_churn": curve_churn_probability(res, value.curve, horizon=h),
                            "value": res["residual_clv"]})
        per["expected_loss"] = per["p_churn"] * per["value"]
        boot = bootstrap_contractual(
            data.customers, res, value.curve, observation_end=data.observation_end,
            observed_from=value.observed_from, min_at_risk=value.min_at_risk,
            margin=value.margin, discount_rate=value.discount_rate, horizon=h, n_boot=n_boot,
            random_state=random_state)
        model = "retention curve"
    else:
        summ = btyd.summary
        active_ids = data.customers.loc[on_books(data.customers, data.observation_end), "customer_id"]
        units = float(summ.attrs.get("units_per_year", 365.25 / 7))
        horizon = h / 12 * units
        p = bgnbd_churn_probability(btyd.bg, horizon, summ["frequency"], summ["recency"], summ["T"])
        per = pd.DataFrame({"segment": "all", "p_churn": p["p_churn_if_alive"],
                            "value": btyd.value["clv"]}, index=summ.index)
        per["expected_loss"] = per["p_churn"] * per["value"]
        keep = per.index.isin(active_ids)
        per = per[keep]
        boot = bootstrap_btyd(summ, horizon_years=btyd.horizon_years, margin=btyd.margin,
                              discount_rate=btyd.discount_rate, horizon=horizon, n_boot=n_boot,
                              evaluate=keep, random_state=random_state)
        model = "BG/NBD"
    per["flagged"] = (flagged.reindex(per.index).astype("boolean") if flagged is not None
                      else pd.Series(pd.NA, index=per.index, dtype="boolean"))
    boot = boot.reindex(per.index)
    is_flagged = per["flagged"].fillna(False).to_numpy(dtype=bool)
    replicates = pd.DataFrame({"all": boot.sum(axis=0).to_numpy(),
                               "flagged": (boot[is_flagged].sum(axis=0).to_numpy()
                                           if flagged is not None else np.nan)})
    return MoneyAtRisk(per, h, model, replicates, bool(data.is_snapshot))


def stage_figures(data, *, dataset: str, margin: float, discount_rate: float,
                  sanity: pd.DataFrame, results: Sequence = (), scenarios: dict | None = None) -> dict:
    """The stage's key figures: the setting, the sanity checks, then each available result's
    ``key_figures()`` in report order (``scenarios``: :func:`scenario_figures`, after the
    cost of churn)."""
    figures = {"dataset": dataset, "kind": data.kind, "margin": margin,
               "discount_rate": discount_rate, "observation_end": data.observation_end,
               **sanity_figures(sanity)}
    for r in results:
        if r is None:
            continue
        figures.update(r.key_figures())
        if isinstance(r, ChurnCostResult) and scenarios:
            figures.update(scenarios)
    return figures


def scenario_table(scenarios: pd.DataFrame, currency: str | None = "") -> pd.DataFrame:
    """:func:`retention_scenarios` as a reader sees it: headers and scenario names in the report
    language (the frame itself keeps its English names, which :func:`scenario_figures` reads)."""
    money_cols = {"revenue", "profit", "extra_revenue", "extra_profit"}
    out = scenarios.copy()
    out.columns = [_with_unit(label(c), currency) if c in money_cols else label(c)
                   for c in out.columns]
    out.index = [scenario_name(i) for i in out.index]
    out.index.name = label(scenarios.index.name) if scenarios.index.name else None
    return out
