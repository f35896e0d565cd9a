"""Published figures against the reproduction (calibration.py), on tables whose CIs are known."""

import pandas as pd

from csi import calibration


def test_each_figure_is_set_beside_its_estimate_and_ci(tmp_path):
    pd.DataFrame({"item": ["a", "b"], "rate": [0.90, 0.50], "ci_lower": [0.88, 0.45], "ci_upper": [0.92, 0.55],
                  "n": [1000, 400], "rate_unit": [0.95, 0.6], "ci_lower_unit": [0.93, 0.5],
                  "ci_upper_unit": [0.965, 0.7], "n_unit": [700, 200]}).to_csv(tmp_path / "top_box.csv")
    pd.DataFrame({"item": ["b"] * 3, "code": [1, 2, 3], "n": [100, 100, 200]}).to_csv(tmp_path / "distribution.csv")
    pd.DataFrame({"option": ["o"], "rate_unit": [0.3], "ci_lower_unit": [0.25], "ci_upper_unit": [0.35],
                  "n_unit": [700]}).to_csv(tmp_path / "options.csv")
    spec = {"targets": {"a": {"by_type": {"unit": 0.97}, "source": "97% of units (3.1)"},
                        "b": {"overall": 0.52, "categories": {3: 0.5}, "source": "assumed"}},
            "channels": {"o": {"unit": 0.30, "source": "30% (3.2)"}}}
    t = calibration.table(spec, tmp_path).set_index(["item", "group"])
    assert list(t.columns) == calibration.COLUMNS[2:]
    assert t.loc[("a", "unit"), "inside"] == False     # noqa: E712 (97% against [93%, 96.5%])
    assert not t.loc[("a", "unit"), "assumed"] and t.loc[("b", "all"), "assumed"]
    assert t.loc[("b", "all"), "inside"]
    cat = t.loc[("b", "category 3")]            # 200 of 400: Wilson CI around 0.5
    assert cat["estimate"] == 0.5 and cat["n"] == 400 and cat["ci_lower"] < 0.5 < cat["ci_upper"]
    assert abs((cat["ci_upper"] - cat["ci_lower"]) - 2 * 1.96 * (0.25 / 400) ** 0.5) < 0.002
    assert t.loc[("o", "unit"), "inside"]
