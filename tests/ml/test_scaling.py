import math

import numpy as np

from ml.scaling import ScoreScaling


def test_600_points_at_50_to_1_and_20_points_double_the_odds():
    scaling = ScoreScaling()
    assert scaling.points(1 / 51) == 600
    assert scaling.points(1 / 101) == 620  # odds 100:1
    assert scaling.points(1 / 26) == 580  # odds 25:1
    assert math.isclose(scaling.factor, 20 / math.log(2))


def test_points_fall_as_risk_rises_and_are_clipped():
    scaling = ScoreScaling()
    risks = np.linspace(0.0, 1.0, 1001)
    points = scaling.points(risks)
    assert (np.diff(points) <= 0).all()
    assert points.max() == 850 and points.min() == 300


def test_bands_follow_points():
    scaling = ScoreScaling()
    assert scaling.band(640).code == "A"
    assert scaling.band(600).code == "A"
    assert scaling.band(599).code == "B"
    assert scaling.band(300).code == "E"
    codes = [scaling.bands[i].code for i in scaling.band_index(np.array([700, 560, 520, 400]))]
    assert codes == ["A", "C", "D", "E"]
    assert scaling.to_dict()["bands"][-1]["min_points"] is None
