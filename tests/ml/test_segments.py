import numpy as np

from ml.segments import describe_centroid, fit_segmenter


def blobs(seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[0, 0, 0], [8, 0, 0], [0, 8, 8]])
    values = np.vstack([c + rng.normal(0, 0.6, (150, 3)) for c in centers])
    return values, np.repeat([0, 1, 2], 150)


def test_k_is_chosen_by_silhouette_and_segments_are_predicted():
    values, truth = blobs()
    segmenter = fit_segmenter(values, ["a", "b", "c"], ["Age", "Income", "Debt"], random_state=0)
    assert segmenter.n_segments == 3
    predicted = segmenter.predict(values)
    for cluster in range(3):  # each true blob maps to one segment
        assert len(np.unique(predicted[truth == cluster])) == 1
    assert sum(segmenter.sizes) == len(values)
    assert segmenter.to_dict()["k"] == 3
    with_missing = values[:5].copy()
    with_missing[:, 1] = np.nan  # missing values are filled with the median, not fatal
    assert segmenter.predict(with_missing).shape == (5,)


def test_centroid_descriptions_use_plain_words():
    text = describe_centroid(np.array([1.5, -0.9, 0.1]), ["Age", "Credit limit", "Debt"])
    assert text == "high age, low credit limit"
    assert describe_centroid(np.zeros(3), ["a", "b", "c"]) == "typical on every measure"
