"""Evaluation-stream codebooks: what each column of a rating export means (its role), the rating
scale, opening hours and the rules that tell a rating of a service from other records. YAML,
checked against csi/schemas/evaluations.schema.json (data/codebooks/evaluations.schema.json)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..codebook import both_languages, read_yaml, schema_problems
from ..errors import CSIError

SCHEMA_FILE = "evaluations.schema.json"
NOT_RECORDED = "(not recorded)"      # a count's hall, window, service... when the record has none
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REQUIRED_ROLES = ("timestamp", "rating")                  # without these there is nothing to analyse
SINGLE_ROLES = ("id", "case", "timestamp", "rating", "channel", "service", "hall", "window", "staff",
                "reasons", "comment", "followup_status", "followup_time", "deadline")


def schema() -> dict:
    return json.loads(resources.files("csi").joinpath("schemas", SCHEMA_FILE).read_text("utf-8"))


@dataclass(frozen=True)
class Column:
    header: str
    code: str
    role: str
    label: dict
    value_labels: dict | None = None
    on_site: tuple = ()
    online: tuple = ()
    separator: str | None = None
    options: tuple = ()          # reasons: ({code, value, label}, ...)


class StreamCodebook:
    def __init__(self, data: dict, path: Path | None = None):
        self.data = data
        self.path = path
        self.name = data["stream"]
        self.title = both_languages(data["title"])
        self.missing_codes = [str(v) for v in data.get("missing_codes", [])]
        s = data["scale"]
        self.labels = dict(s["labels"])
        self.good = tuple(s["good"])
        self.bad = tuple(s["bad"])
        self.opening_hours = {d: tuple(v) for d, v in data["opening_hours"].items()}
        self.grace_minutes = int(data.get("grace_minutes", 15))
        self.repeat_window_days = float(data.get("repeat_window_days", 7))
        self.max_unparseable_share = float(data.get("max_unparseable_share", 0.05))
        self.test_records = list(data.get("test_records", []))
        self.survey = list(data.get("survey", []))
        self.topics = {k: {"label": both_languages(v["label"]), "words": list(v["words"])}
                       for k, v in data.get("topics", {}).items()}
        self.columns = [Column(header=c["header"], code=c["code"], role=c["role"], label=both_languages(c["label"]),
                               value_labels=c.get("value_labels"), on_site=tuple(c.get("on_site", ())),
                               online=tuple(c.get("online", ())), separator=c.get("separator"),
                               options=tuple({**o, "label": both_languages(o["label"])} for o in c.get("options", ())))
                        for c in data["columns"]]

    def role(self, role: str) -> Column | None:
        """The column with this role (roles other than pii/paradata occur at most once)."""
        return next((c for c in self.columns if c.role == role), None)

    @property
    def reasons(self) -> list[dict]:
        col = self.role("reasons")
        return list(col.options) if col else []


def load(path) -> StreamCodebook:
    """Read an evaluation codebook and check it against its schema and for consistency."""
    path = Path(path)
    data = read_yaml(path, "evaluation codebook", "check the path (the default is data/codebooks/haochaping_2021.yaml).")
    check(data, path)
    return StreamCodebook(data, path)


def check(data, path) -> None:
    problems = schema_problems(schema(), data)
    if problems:
        raise CSIError(f"evaluation codebook does not match its schema ({len(problems)} problem(s))", file=path,
                       problems=problems,
                       hint=f"compare with data/codebooks/{SCHEMA_FILE} and data/codebooks/haochaping_2021.yaml.")
    problems = _consistency_problems(data)
    if problems:
        raise CSIError(f"evaluation codebook is inconsistent ({len(problems)} problem(s))", file=path,
                       problems=problems, hint="correct the entries named above.")


def _consistency_problems(data: dict) -> list[str]:
    problems = []
    codes = set(data["scale"]["labels"].values())
    for key in ("good", "bad"):
        for c in data["scale"][key]:
            if c not in codes:
                problems.append(f"scale.{key}: code {c} is not the code of any label")
    if set(data["scale"]["good"]) & set(data["scale"]["bad"]):
        problems.append("scale: a code cannot be both good and bad")
    for day, (start, end) in data["opening_hours"].items():
        if start >= end:
            problems.append(f"opening_hours.{day}: opening {start} is not before closing {end}")
    seen_codes, seen_headers, roles = set(), set(), {}
    for i, c in enumerate(data["columns"]):
        if c["code"] in seen_codes:
            problems.append(f"columns[{i}]: code {c['code']!r} is used twice")
        if c["header"] in seen_headers:
            problems.append(f"columns[{i}]: header {c['header']!r} is listed twice")
        seen_codes.add(c["code"])
        seen_headers.add(c["header"])
        roles.setdefault(c["role"], []).append(c["code"])
        if c["role"] == "channel":
            values = set(c["value_labels"].values())
            for key in ("on_site", "online"):
                for v in c.get(key, []):
                    if v not in values:
                        problems.append(f"columns[{i}] ({c['code']}): {key} value {v!r} is not a value of value_labels")
        if c["role"] == "reasons":
            try:
                re.compile(c["separator"])
            except re.error as e:
                problems.append(f"columns[{i}] ({c['code']}): separator is not a regular expression ({e})")
    for role in REQUIRED_ROLES:
        if role not in roles:
            problems.append(f"no column has role `{role}`")
    for role in SINGLE_ROLES:
        if len(roles.get(role, [])) > 1:
            problems.append(f"more than one column has role `{role}`: {', '.join(roles[role])}")
    for k, t in enumerate(data.get("test_records", [])):
        if t["column"] not in seen_codes:
            problems.append(f"test_records[{k}]: column {t['column']!r} is not a column code")
        try:
            re.compile(t["pattern"])
        except re.error as e:
            problems.append(f"test_records[{k}]: pattern is not a regular expression ({e})")
    return problems
