"""Data a model cannot be fitted to stop the model stage at once, with the variable and count named
and what to do — not a linear-algebra error, an IndexError in the bootstrap or 'array must not
contain infs or NaNs'."""

import numpy as np
import pandas as pd
import pytest

from csi.cli import main

from conftest import ROOT

FIX = ROOT / "tests/fixtures/lavaan"
MODEL = FIX / "chengdu_a.lavaan"


@pytest.fixture
def data():
    return pd.read_csv(FIX / "chengdu_a.csv")


def run(tmp_path, capsys, frame, *command):
    path = tmp_path / "data" / "clean.parquet"
    path.parent.mkdir(exist_ok=True)
    frame.to_parquet(path)
    code = main([*command[:1], str(MODEL), str(path), *command[1:], "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    return code, err


def refused(code, err, *fragments):
    assert code == 1, err
    assert "What to do:" in err and "Traceback" not in err
    for f in fragments:
        assert f in err, f"{f!r} not in:\n{err}"


def test_no_respondent_left_after_cleaning(tmp_path, capsys, data):
    code, err = run(tmp_path, capsys, data.iloc[:0], "fit", "--bootstrap", "100")
    refused(code, err, "no respondents to fit the model to (0 rows)", "after cleaning: see flow.json",
            "`clean:`")
    assert not (tmp_path / "out").exists()


def test_too_few_respondents_for_the_free_parameters(tmp_path, capsys, data):
    code, err = run(tmp_path, capsys, data.dropna().iloc[:60], "fit", "--bootstrap", "1000")
    refused(code, err, "too few respondents: 60 complete for 52 free parameters (1.2 per parameter",
            "at least 2", "5 are advised")


def test_fewer_respondents_than_parameters_advised_is_a_warning(tmp_path, capsys, data):
    code, err = run(tmp_path, capsys, data.dropna().iloc[:200], "fit")
    assert code == 0, err
    assert "200 complete respondents for 52 free parameters (3.8 per parameter" in err


def test_an_item_nobody_answered_or_everybody_answered_alike(tmp_path, capsys, data):
    d = data.copy()
    d["sat_ideal"] = np.nan
    d["hnd_service"] = 3.0
    code, err = run(tmp_path, capsys, d, "fit")
    refused(code, err, "2 model variable(s) carry no information",
            "hnd_service: all 1000 answers are 3 (no variance)",
            "sat_ideal: no answers among the 1000 respondents (all missing)", "recoded_cells.csv")


def test_nobody_answered_every_model_item(tmp_path, capsys, data):
    d = data.copy()
    d.loc[d.index[::2], "sat_overall"] = np.nan
    d.loc[d.index[1::2], "tru_confidence"] = np.nan
    code, err = run(tmp_path, capsys, d, "fit")
    refused(code, err, "no respondent answered every model variable (1000 rows, 0 complete)",
            "sat_overall (50% missing)", "listwise deletion leaves nobody")


def test_a_model_with_more_parameters_than_moments(tmp_path, capsys, data):
    model = tmp_path / "wide.lavaan"
    model.write_text("F =~ loc_signs + loc_comfort\nG =~ inf_process + inf_channels\nF ~~ G\n"
                     "loc_signs ~~ inf_process\nloc_comfort ~~ inf_channels\nloc_signs ~~ inf_channels\n")
    path = tmp_path / "d.csv"
    data.to_csv(path, index=False)
    code = main(["fit", str(model), str(path), "--out", str(tmp_path / "out")])
    refused(code, capsys.readouterr().err, "the model is not identified: 12 free parameters but only 10",
            "df = -2")


def test_with_fiml_nobody_complete_is_fine_but_items_never_answered_together_are_not(tmp_path, capsys, data):
    d = data.copy()
    d.loc[d.index[::2], "sat_overall"] = np.nan        # no complete row: FIML uses the rest
    d.loc[d.index[1::2], "tru_confidence"] = np.nan    # ...but these two are never answered together
    code, err = run(tmp_path, capsys, d, "fit", "--missing", "fiml")
    refused(code, err, "1 pair(s) of model variables were never answered by the same respondent",
            "tru_confidence and sat_overall", "routed questions")
    d = data.copy()
    sat = ["sat_overall", "sat_expect", "sat_ideal"]
    for k, item in enumerate(sat):                    # row i skips one of the three: every row incomplete,
        d.loc[d.index[k::3], item] = np.nan           # every pair answered together by a third of the rows
    assert d[sat].notna().all(axis=1).sum() == 0
    code, err = run(tmp_path, capsys, d, "fit", "--missing", "fiml", "--quiet")
    assert code == 0, err


def test_a_group_nobody_in_which_answered_every_item(tmp_path, capsys, data):
    d = data.copy()
    d["resp_type"] = np.where(np.arange(len(d)) % 3 == 0, "unit", "individual")
    d.loc[d["resp_type"] == "unit", "int_feedback"] = np.nan       # an item not asked of units
    path = tmp_path / "d.csv"
    d.to_csv(path, index=False)
    code = main(["invariance", str(MODEL), str(path), "--cfa", "--group", "resp_type", "--out", str(tmp_path / "o")])
    refused(code, capsys.readouterr().err, "group 'unit' of 'resp_type' has 0 respondent(s) who answered every "
            "model item", "routed questions")
    assert not (tmp_path / "o").exists()


def test_a_grouping_column_with_one_level(tmp_path, capsys, data):
    d = data.copy()
    d["resp_type"] = "individual"
    path = tmp_path / "d.csv"
    d.to_csv(path, index=False)
    code = main(["invariance", str(MODEL), str(path), "--cfa", "--group", "resp_type", "--out", str(tmp_path / "o")])
    refused(code, capsys.readouterr().err, "grouping column 'resp_type' has one level ('individual', 1000 rows)",
            "a comparison across groups needs two", "role `demographic`")


def test_the_measurement_stage_stops_the_same_way(tmp_path, capsys, data):
    d = data.copy()
    d["inf_channels"] = np.nan
    path = tmp_path / "data" / "clean.parquet"
    path.parent.mkdir()
    d.to_parquet(path)
    code = main(["measurement", str(MODEL), str(path), "--out", str(tmp_path / "t"), "--cfa-out", str(tmp_path / "c")])
    refused(code, capsys.readouterr().err, "inf_channels: no answers among the 1000 respondents")
