"""scaffold-codebook: a draft that fails until its TODOs are filled, then codes the export
exactly as the hand-written codebook does."""

import pandas as pd
import yaml

from csi import codebook, exports, scaffold, validate

from conftest import CODEBOOK, RAW_A, ROOT


def fill(draft: dict, truth: dict) -> dict:
    """Fill the TODOs as the student would, from what the questionnaire says (here: the
    hand-written codebook)."""
    by_header = {c["header"]: c for c in truth["columns"] if "header" in c}
    by_option = {o["header"]: (c, o) for c in truth["columns"] for o in c.get("options", [])}
    d = dict(draft)
    d["questionnaire"], d["title"], d["constructs"] = truth["questionnaire"], truth["title"], truth["constructs"]
    cols = []
    for c in draft["columns"]:
        if "options" in c:
            q, _ = by_option[c["options"][0]["header"]]
            cols.append({**q, "options": [by_option[o["header"]][1] for o in c["options"]]})
            continue
        t = by_header[c["header"]]
        new = {k: v for k, v in c.items() if k not in ("value_labels", "construct", "scale")}
        new.update({k: t[k] for k in ("code", "role", "label", "construct", "value_labels", "correct",
                                      "battery", "reverse", "identity") if k in t})
        if "scale" in c:
            new["scale"] = c["scale"]
        cols.append(new)
    d["columns"] = cols
    return d


def test_draft_guesses_and_needs_its_todos_filled(tmp_path, raw_a):
    d = scaffold.draft(raw_a)
    roles = {c["header"]: c.get("role") for c in d["columns"] if "header" in c}
    assert roles["序号"] == "id" and roles["提交答卷时间"] == "timestamp" and roles["所用时间"] == "duration"
    for pii in ("30. 您的姓名：", "31. 您的手机号码：", "32. 您的身份证号码：", "来自IP"):
        assert roles[pii] == "pii", pii
    assert roles["9. 您对服务大厅的标识指引是否满意？"] == "item"
    assert sum(r == "item" for r in roles.values()) == 21          # 20 items + the instructed item
    assert {len(c["options"]) for c in d["columns"] if "options" in c} == {4, 5}
    assert set(d["missing_codes"]) == {"(跳过)", "-3"}
    out = tmp_path / "draft.yaml"
    assert scaffold.write(d, out) > 0
    from csi.errors import CSIError
    import pytest

    with pytest.raises(CSIError):
        codebook.load(out)


def test_round_trip_codes_like_the_handwritten_codebook(tmp_path, raw_a):
    truth = yaml.safe_load(CODEBOOK.read_text("utf-8"))
    filled = fill(scaffold.draft(raw_a), truth)
    path = tmp_path / "filled.yaml"
    path.write_text(yaml.safe_dump(filled, allow_unicode=True, sort_keys=False), "utf-8")
    cb = codebook.load(path)                                       # valid once filled
    export = exports.read(RAW_A)
    ours = validate.validate(export, cb, salt=b"s").coded
    ref = validate.validate(export, codebook.load(CODEBOOK), salt=b"s").coded
    items = [c.code for c in codebook.load(CODEBOOK).items]
    pd.testing.assert_frame_equal(ours[items], ref[items])


def test_item_codes_and_english_text_come_from_the_headers():
    """An English export whose headers start with the item code ("IMAG1 — ..."): the draft takes
    the code and puts the text in `en`, with no Chinese label required."""
    raw = ROOT / "data/raw/ecsi_example/export.csv"
    truth = yaml.safe_load((ROOT / "data/codebooks/ecsi_example.yaml").read_text("utf-8"))
    d = scaffold.draft(exports.read(raw).frame)
    items = [c for c in d["columns"] if c.get("role") == "item"]
    assert [c["code"] for c in items] == [c["code"] for c in truth["columns"]]
    assert all(set(c["label"]) == {"en"} and "—" not in c["label"]["en"] for c in items)
    assert items[0]["label"]["en"] == truth["columns"][0]["header"].split(" — ", 1)[1]
    assert {c["scale"] for c in items} == {"codes_1_10"}
