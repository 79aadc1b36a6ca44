"""Score in points and risk bands.

Points follow the usual scorecard scaling on the odds of being good,
``odds = (1 - risk) / risk`` where risk is the probability of the worst class:

    points = offset + factor * ln(odds)
    factor = 20 / ln(2)               (20 points double the odds)
    offset = 600 - factor * ln(50)    (600 points at 50:1 good:bad odds)

clipped to 300..850. Higher points = safer, and points fall strictly as risk rises
inside the clip range. Risk bands cut the points at fixed odds, so a band means the same
risk on every scorecard.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

RISK_FLOOR = 1e-6  # a leaf with no bad applicant still is not a certainty


@dataclass(frozen=True)
class RiskBand:
    code: str
    label: str
    min_points: float  # inclusive lower bound


# Lower bounds correspond to about 2%, 5%, 15% and 35% risk.
DEFAULT_BANDS = (
    RiskBand("A", "very low risk", 600),
    RiskBand("B", "low risk", 572),
    RiskBand("C", "moderate risk", 537),
    RiskBand("D", "high risk", 505),
    RiskBand("E", "very high risk", -math.inf),
)


@dataclass(frozen=True)
class ScoreScaling:
    """Points = offset + factor * ln(good:bad odds), clipped; see the module docstring."""

    base_points: float = 600.0
    base_odds: float = 50.0
    points_to_double_odds: float = 20.0
    min_points: float = 300.0
    max_points: float = 850.0
    bands: tuple[RiskBand, ...] = DEFAULT_BANDS

    @property
    def factor(self) -> float:
        return self.points_to_double_odds / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def points(self, risk) -> np.ndarray:
        """Whole points for an array (or scalar) of risks."""
        risk = np.clip(np.asarray(risk, dtype=np.float64), RISK_FLOOR, 1 - RISK_FLOOR)
        raw = self.offset + self.factor * np.log((1 - risk) / risk)
        return np.round(np.clip(raw, self.min_points, self.max_points)).astype(np.int64)

    def band_index(self, points) -> np.ndarray:
        """Index into `bands` of each score."""
        points = np.asarray(points, dtype=np.float64)
        bounds = np.array([band.min_points for band in self.bands])
        return (points[..., None] < bounds).sum(axis=-1).clip(0, len(self.bands) - 1)

    def band(self, points: float) -> RiskBand:
        return self.bands[int(self.band_index(points))]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["bands"] = [
            {
                "code": b.code,
                "label": b.label,
                "min_points": None if b.min_points == -math.inf else b.min_points,
            }
            for b in self.bands
        ]
        data["factor"] = self.factor
        data["offset"] = self.offset
        data["formula"] = "points = offset + factor * ln((1 - risk) / risk), clipped"
        return data
