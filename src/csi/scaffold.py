"""Draft a codebook from a raw export: the student fills in what is marked TODO.

Guesses, column by column: paradata (id, time, duration), personal data (by header words and
value patterns), multi-select options (0/1 columns sharing a question), answer scales (known
Chinese label sets, or numeric codes), categorical questions and free text. A header starting
with an item code ("IMAG1 — ...") gives the code; labels go into the language they are written
in (Chinese text in zh, other text in en). Anything it cannot tell is written as TODO, so the
draft fails `csi check-codebook` until a person decides.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import pandas as pd

from .validate import DURATION, NUMBER, cell_text

# Common answer scales of Chinese satisfaction surveys (text -> code, higher = better).
KNOWN_SCALES = {
    "sat5": ({"非常满意": 5, "比较满意": 4, "一般": 3, "不太满意": 2, "非常不满意": 1}, [4, 5]),
    "sat5b": ({"非常满意": 5, "满意": 4, "一般": 3, "不满意": 2, "非常不满意": 1}, [4, 5]),
    "agree5": ({"非常同意": 5, "比较同意": 4, "一般": 3, "不太同意": 2, "非常不同意": 1}, [4, 5]),
    "agree5b": ({"非常同意": 5, "同意": 4, "一般": 3, "不同意": 2, "非常不同意": 1}, [4, 5]),
    "aware5": ({"非常了解": 5, "比较了解": 4, "一般": 3, "不太了解": 2, "完全不了解": 1}, [4, 5]),
    "trust5": ({"非常信任": 5, "比较信任": 4, "一般": 3, "不太信任": 2, "很不信任": 1}, [4, 5]),
    "will5": ({"一定会": 5, "可能会": 4, "不确定": 3, "可能不会": 2, "一定不会": 1}, [4, 5]),
    "expect5": ({"远超预期": 5, "超出预期": 4, "符合预期": 3, "低于预期": 2, "远低于预期": 1}, [4, 5]),
    "ideal5": ({"非常接近": 5, "比较接近": 4, "一般": 3, "差距较大": 2, "差距很大": 1}, [4, 5]),
    "prof3": ({"很专业": 3, "一般": 2, "不太专业": 1}, [2, 3]),
    "level3": ({"很好": 3, "一般": 2, "不满意": 1}, [2, 3]),
    "yesno": ({"是": 1, "否": 0}, [1]),
}
MISSING = ["(跳过)", "(空)", "-3", "99", "-2"]
PII_WORDS = ("姓名", "名字", "手机号", "电话号", "联系电话", "联系方式", "身份证", "证件号", "IP",
             "住址", "地址", "邮箱", "微信号", "QQ号")
IDENTITY_WORDS = ("手机号", "电话", "身份证", "证件号")
ID_WORDS = ("序号", "编号", "答卷编号", "ID")
PHONE = re.compile(r"^1[3-9]\d{9}$")
ID_CARD = re.compile(r"^\d{17}[\dXx]$")
OPTION = re.compile(r"^(?P<q>.+?)[:：](?P<o>[^:：]+)$")
# a header that starts with an item code: "IMAG1 — The office is trustworthy", "Q3. ...", "SAT2"
CODED = re.compile(r"^(?P<code>[A-Za-z][A-Za-z0-9_]*\d[A-Za-z0-9_]*|[A-Z][A-Z0-9_]+)"
                   r"(?:\s*[—–\-:：.．、)]\s*|\s+)(?P<text>.+)$|^(?P<alone>[A-Za-z][A-Za-z0-9_]*\d[A-Za-z0-9_]*)$")
CJK = re.compile(r"[\u3400-\u9fff]")


def label_of(text: str) -> dict:
    """The label in the language it is written in (Chinese text as zh, other text as en)."""
    return {"zh": text, "en": "TODO"} if CJK.search(text) else {"en": text}


def code_of(header: str, n: int, used: set) -> tuple[str, dict]:
    """(code, label) of a column: the item code its header starts with, else qNN."""
    m = CODED.match(header.strip())
    if m:
        code = m.group("code") or m.group("alone")
        if code not in used and code.lower() not in used:
            return code, label_of(m.group("text") or header)
    return f"q{n:02d}", label_of(header)


def _role_guess(header: str, values: pd.Series) -> str | None:
    text = values.dropna().astype(str)
    # a personal-data header, unless the answers are a handful of ratings or labels
    if any(w in header for w in PII_WORDS) and text.nunique() > 12:
        return "pii"
    if len(text) and (text.str.match(PHONE).mean() > 0.9 or text.str.match(ID_CARD).mean() > 0.9):
        return "pii"
    if any(w in header for w in ID_WORDS) and text.is_unique:
        return "id"
    if any(w in header for w in ("时长", "用时", "所用时间")) and len(text) and text.str.match(DURATION).all():
        return "duration"
    if len(text) and pd.to_datetime(text, errors="coerce", format="mixed").notna().mean() > 0.95 \
            and not text.str.match(NUMBER).all():
        return "timestamp"
    return None


def draft(raw: pd.DataFrame) -> dict:
    text = raw.map(cell_text)
    scales: dict = OrderedDict()
    columns, options = [], OrderedDict()
    missing_seen, used = set(), set()
    for n, header in enumerate(raw.columns, start=1):
        values = text[header]
        distinct = set(values.dropna())
        missing_here = {v for v in distinct if v in MISSING}
        answers = distinct - missing_here
        code, label = code_of(header, n, used)
        used.add(code)
        m = OPTION.match(header)
        if m and answers and answers <= {"0", "1"}:   # one 0/1 column per option of a question
            options.setdefault(m.group("q"), []).append({"header": header, "code": f"{code}",
                                                         "label": label_of(m.group("o"))})
            missing_seen |= missing_here
            continue
        role = _role_guess(header, values)
        if role is None:
            missing_seen |= missing_here              # missing codes of answer columns only
        entry = {"header": header, "code": code, "role": role or "TODO", "label": label}
        if role == "pii":
            entry["identity"] = any(w in header for w in IDENTITY_WORDS) or bool(
                answers and all(PHONE.match(v) or ID_CARD.match(v) for v in answers))
        elif role is None:
            words = {v for v in answers if not NUMBER.match(v)}   # numbers here are stray codes
            known = next((name for name, (labels, _) in KNOWN_SCALES.items()
                          if words and words <= set(labels)), None)
            numeric = answers and all(re.fullmatch(r"-?\d+", v) for v in answers)
            if known:
                labels, top = KNOWN_SCALES[known]
                scales[known] = {"min": min(labels.values()), "max": max(labels.values()),
                                 "labels": dict(labels), "top_box": list(top)}
                entry.update(role="item", construct="TODO", scale=known)
            elif numeric and 2 <= len(answers) and max(map(int, answers)) <= 11:
                lo, hi = min(map(int, answers)), max(map(int, answers))
                lo = 0 if lo == 0 else 1
                name = f"codes_{lo}_{hi}"
                scales[name] = {"min": lo, "max": hi, "exported_as": "codes",
                                "labels": {str(k): k for k in (lo, hi)},
                                "top_box": [hi - 1, hi] if hi - lo >= 4 else [hi]}
                entry.update(role="item", construct="TODO", scale=name)
            elif answers and len(answers) <= 12 and len(values.dropna()) > 2 * len(answers):
                entry.update(role="TODO", value_labels={v: "TODO" for v in sorted(answers)})
            elif answers:
                entry.update(role="free_text")
        columns.append(entry)
    for question, opts in options.items():
        first = opts[0]["code"]
        columns.append({"code": f"{first}_set", "role": "channel", "label": label_of(question),
                        "options": opts})
    return OrderedDict(
        questionnaire="TODO_name",
        title={"en": "TODO"},
        source="drafted by csi scaffold-codebook: check every TODO",
        missing_codes=sorted(missing_seen),
        scales=dict(scales),
        constructs={"TODO": {"kind": "driver", "label": {"en": "TODO"}}},
        columns=columns,
    )


def write(draft_: dict, path) -> int:
    """Write the draft as YAML; return the number of TODOs."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(OrderedDict, lambda d, data: d.represent_dict(data.items()))
    body = yaml.dump(dict(draft_), Dumper=Dumper, allow_unicode=True, sort_keys=False, width=100)
    todos = body.count("TODO")
    head = ("# Drafted from a raw export by `csi scaffold-codebook`. Replace every TODO: roles\n"
            "# (item, respondent_type, demographic, channel, ...), constructs of the items, English\n"
            "# labels, value labels; check guessed scales and top_box. Then `csi check-codebook`.\n")
    from pathlib import Path

    Path(path).write_text(head + body, "utf-8")
    return todos
