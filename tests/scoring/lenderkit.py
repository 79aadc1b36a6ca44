"""A lender's own file, of a layout no code here knows: for the builder's end-to-end tests.

Its own column names, amounts in another currency, a date column, a monthly history of late
days, a protected column, an id, a leaky column (known only after the outcome), dirty values,
and an outcome written in words. Seeded; the outcome depends on the inputs, so a model
trained on it learns something.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OUTCOMES = ("Repaid", "Defaulted")


def lender_frame(rows: int = 1200, *, seed: int = 0, dirty: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = np.round(rng.lognormal(mean=8.0, sigma=0.5, size=rows), 2)  # a month, in SEK
    amount = np.round(rng.uniform(5_000, 400_000, size=rows), -2)
    years = rng.integers(0, 35, size=rows)
    home = rng.choice(["Owner", "Tenant", "With parents"], size=rows, p=[0.4, 0.45, 0.15])
    late = np.clip(rng.poisson(lam=rng.uniform(0, 4, size=(rows, 1)), size=(rows, 6)), 0, 90)
    risk = (
        0.35 * late.mean(axis=1)
        + 1.2 * (amount / 12 / income > 2.0)
        - 0.05 * years
        + 0.6 * (home == "Tenant")
        + rng.normal(0, 0.8, size=rows)
    )
    bad = risk > np.quantile(risk, 0.72)
    frame = pd.DataFrame(
        {
            "LoanRef": [f"L-{seed}-{n:06d}" for n in range(rows)],
            "Applied": pd.date_range("2024-01-01", periods=rows, freq="h").strftime("%Y-%m-%d"),
            "AmountRequestedSEK": amount,
            "MonthlyIncomeSEK": income,
            "YearsEmployed": years,
            "HomeStatus": home,
            "Gender": rng.choice(["F", "M"], size=rows),
            **{f"LateDays_M{m}": late[:, m - 1] for m in range(1, 7)},
            "CollectionsFee": np.where(bad, rng.uniform(300, 900, size=rows), 0.0).round(2),
            "Outcome": np.where(bad, OUTCOMES[1], OUTCOMES[0]),
        }
    )
    if dirty:
        frame = frame.astype(object)
        frame.loc[3, "MonthlyIncomeSEK"] = "n/a"
        frame.loc[5, "HomeStatus"] = ""
        frame.loc[8, "YearsEmployed"] = 240  # implausible: set missing, flagged
        frame.loc[11, "AmountRequestedSEK"] = "1,250,000"  # thousands separators
    return frame


def lender_csv(rows: int = 1200, *, seed: int = 0, dirty: bool = True) -> bytes:
    return lender_frame(rows, seed=seed, dirty=dirty).to_csv(index=False).encode()
