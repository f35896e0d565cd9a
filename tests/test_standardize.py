"""Direct standardization of rates to a common respondent mix, against rates worked by hand."""

import math

import pandas as pd
import pytest

from csi import standardize
from csi.errors import CSIError


def _district(folder, n_unit, n_ind, p_unit, p_ind):
    (folder / "tables").mkdir(parents=True)
    pd.DataFrame({"variable": ["resp_type", "resp_type", "gender"], "value": ["unit", "individual", "male"],
                  "n": [n_unit, n_ind, 10], "share": [0, 0, 0]}).to_csv(folder / "tables/profile.csv", index=False)
    n = n_unit + n_ind
    rate = (p_unit * n_unit + p_ind * n_ind) / n
    pd.DataFrame({"item": ["signs"], "construct": ["LOC"], "label_en": ["Guide signs"], "n": [n], "rate": [rate],
                  "ci_lower": [0.0], "ci_upper": [1.0], "n_unit": [n_unit], "rate_unit": [p_unit],
                  "n_individual": [n_ind], "rate_individual": [p_ind]}).to_csv(folder / "tables/top_box.csv",
                                                                               index=False)
    return folder


@pytest.fixture
def two(tmp_path):
    # X: mostly units (who rate higher), Y: mostly individuals; the same rate within each type
    return {"x": _district(tmp_path / "x", 80, 20, 0.9, 0.5), "y": _district(tmp_path / "y", 20, 80, 0.9, 0.5)}


def test_same_rates_within_types_give_the_same_standardized_rate(two):
    mix = standardize.mix(two, {}, "resp_type")
    assert mix.set_index(["district", "group"])["share"].to_dict() == {
        ("x", "unit"): 0.8, ("x", "individual"): 0.2, ("y", "unit"): 0.2, ("y", "individual"): 0.8}
    assert (mix["standard_share"] == 0.5).all()                     # pooled: 100 units, 100 individuals
    std = standardize.rates(two, {}, mix).set_index("district")
    assert std.loc["x", "rate"] == pytest.approx(0.82) and std.loc["y", "rate"] == pytest.approx(0.58)
    assert std["rate_std"].tolist() == pytest.approx([0.70, 0.70])  # 0.5 x 0.9 + 0.5 x 0.5
    # CI by hand: Agresti-Coull share per stratum, variance sum w^2 p~(1 - p~) / (n + 4)
    pu, pi = (0.9 * 80 + 2) / 84, (0.5 * 20 + 2) / 24
    half = 1.959963984540054 * math.sqrt(0.25 * pu * (1 - pu) / 84 + 0.25 * pi * (1 - pi) / 24)
    assert std.loc["x", "ci_lower_std"] == pytest.approx(0.70 - half)
    assert std.loc["x", "ci_upper_std"] == pytest.approx(0.70 + half)


def test_a_given_mix_and_a_mix_that_does_not_fit(two):
    mix = standardize.mix(two, {}, "resp_type", {"unit": 7, "individual": 3})      # shares, normalized
    std = standardize.rates(two, {}, mix)
    assert std["rate_std"].tolist() == pytest.approx([0.78, 0.78])                  # 0.7 x 0.9 + 0.3 x 0.5
    with pytest.raises(CSIError, match="respondent types are individual, unit"):
        standardize.mix(two, {}, "resp_type", {"unit": 0.7, "staff": 0.3})


def test_a_district_without_a_type_has_no_standardized_rate(tmp_path):
    d = {"x": _district(tmp_path / "x", 80, 20, 0.9, 0.5), "y": _district(tmp_path / "y", 50, 0, 0.9, float("nan"))}
    std = standardize.rates(d, {}, standardize.mix(d, {}, "resp_type")).set_index("district")
    assert pd.isna(std.loc["y", "rate_std"]) and pd.notna(std.loc["x", "rate_std"])
