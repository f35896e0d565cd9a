import copy

import pytest
import yaml

from csi import codebook
from csi.errors import CSIError

from conftest import CODEBOOK


@pytest.fixture(scope="module")
def data():
    return yaml.safe_load(CODEBOOK.read_text("utf-8"))


def test_default_codebook_describes_the_seed_questionnaire():
    cb = codebook.load(CODEBOOK)
    drivers = {k for k, v in cb.constructs.items() if v["kind"] == "driver"}
    assert drivers == {"LOC", "INF", "HND", "INT"}
    counts = {k: len(cb.construct_items(k)) for k in drivers}
    assert counts == {"LOC": 5, "INF": 3, "HND": 3, "INT": 3}  # 14 indicators in 4 dimensions
    assert len(cb.construct_items("SAT")) == 3 and len(cb.construct_items("TRU")) == 2
    assert cb.construct_items("CMP") == ["cmp_complained"]
    assert cb.by_code["resp_type"].value_labels == {"参保单位经办人员": "unit", "参保个人": "individual"}
    assert {c.code for c in cb.role("pii")} == {"ip", "name", "mobile", "id_number"}
    assert cb.scales["sat5"].labels["非常满意"] == 5 and cb.scales["prof3"].labels["不太专业"] == 1
    assert "(跳过)" in cb.missing_codes and "-3" in cb.missing_codes
    assert cb.by_code["loc_online_speed"].reverse
    assert cb.by_code["channel_online"].question == "channel"


def _fails(tmp_path, data, *fragments):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(CSIError) as e:
        codebook.load(p)
    text = str(e.value)
    assert str(p) in text
    for f in fragments:
        assert f in text, text
    assert "What to do:" in text
    return text


def test_item_without_scale_fails_schema(tmp_path, data):
    d = copy.deepcopy(data)
    item = next(c for c in d["columns"] if c["code"] == "loc_signs")
    del item["scale"]
    _fails(tmp_path, d, "does not match its schema", "loc_signs", "'scale' is a required property")


def test_unknown_role_fails_schema(tmp_path, data):
    d = copy.deepcopy(data)
    d["columns"][0]["role"] = "identifier"
    _fails(tmp_path, d, "columns[0] (serial).role", "'identifier' is not one of")


def test_column_with_header_and_options_fails(tmp_path, data):
    d = copy.deepcopy(data)
    d["columns"][0]["options"] = [{"header": "x", "code": "x", "label": {"zh": "x", "en": "x"}}]
    _fails(tmp_path, d, "exactly one of `header`")


def test_undefined_scale_construct_and_repeated_code(tmp_path, data):
    d = copy.deepcopy(data)
    items = [c for c in d["columns"] if c.get("role") == "item"]
    items[0]["scale"] = "sat7"
    items[1]["construct"] = "QUAL"
    items[2]["code"] = items[3]["code"]
    _fails(tmp_path, d, "scale 'sat7' is not defined", "construct 'QUAL' is not defined",
           f"code {items[3]['code']!r} is used twice")


def test_label_code_outside_scale_range(tmp_path, data):
    d = copy.deepcopy(data)
    d["scales"]["sat5"]["labels"]["非常满意"] = 6
    _fails(tmp_path, d, "label '非常满意' has code 6 outside 1–5")


def test_yaml_syntax_error_names_the_line(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("questionnaire: x\ncolumns: [\n  - a: b\n", "utf-8")
    with pytest.raises(CSIError, match=r"not valid YAML at line \d+"):
        codebook.load(p)


def test_check_codebook_command(tmp_path, data, capsys):
    from csi.cli import main

    assert main(["check-codebook", str(CODEBOOK)]) == 0
    d = copy.deepcopy(data)
    del d["scales"]
    p = tmp_path / "noscales.yaml"
    p.write_text(yaml.safe_dump(d, allow_unicode=True), "utf-8")
    assert main(["check-codebook", str(p)]) == 1
    assert "'scales' is a required property" in capsys.readouterr().err
