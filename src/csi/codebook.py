"""Codebooks: what every raw column of a survey export means (YAML, checked against a JSON schema)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import yaml

from .errors import CSIError

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~50x faster

SCHEMA_FILE = "codebook.schema.json"
MAX_ORDERED = 7      # scales with at most this many categories are ordered unless the codebook says otherwise


def schema() -> dict:
    return json.loads(resources.files("csi").joinpath("schemas", SCHEMA_FILE).read_text("utf-8"))


@dataclass(frozen=True)
class Scale:
    name: str
    min: int
    max: int
    labels: dict[str, int]
    top_box: tuple[int, ...]
    labels_en: dict[int, str] = field(default_factory=dict)
    exported_as: str = "labels"
    ordered: bool | None = None       # None: decided by the number of categories (is_ordered)

    @property
    def categories(self) -> int:
        return len(set(self.labels.values()) | set(range(self.min, self.max + 1)))

    @property
    def is_ordered(self) -> bool:
        """Ordered categories in the SEM: as the codebook says, else up to MAX_ORDERED categories."""
        return self.ordered if self.ordered is not None else self.categories <= MAX_ORDERED

    def reverse(self, code):
        return self.min + self.max - code

    def label_of(self, code: int, language: str = "zh") -> str:
        if language == "en" and code in self.labels_en:
            return self.labels_en[code]
        return next((k for k, v in self.labels.items() if v == code), str(code))


@dataclass(frozen=True)
class RawColumn:
    """One column of the raw export (a multi-select question gives one per option)."""

    header: str
    code: str
    role: str
    label: dict
    construct: str | None = None
    scale: str | None = None
    reverse: bool = False
    better: str = "higher"       # "lower": the top box counts a problem (e.g. complained); lower is better
    battery: str | None = None
    value_labels: dict | None = None
    correct: str | None = None
    identity: bool = False
    question: str | None = None  # the multi-select question this option belongs to


RESERVED = ("raw_row", "respondent", "same_person_as", "attention_passed")  # columns csi adds


def both_languages(text: dict) -> dict:
    """{'en': ..., 'zh': ...} from a text given in one or both languages (the other falls back)."""
    return {"en": text.get("en") or text.get("zh"), "zh": text.get("zh") or text.get("en")}


def _with_both_languages(data: dict) -> dict:
    import copy

    data = copy.deepcopy(data)
    for key in ("title", "subject"):
        if key in data:
            data[key] = both_languages(data[key])
    for c in data["constructs"].values():
        c["label"] = both_languages(c["label"])
    for c in data["columns"]:
        c["label"] = both_languages(c["label"])
        for o in c.get("options", []):
            o["label"] = both_languages(o["label"])
    return data


class Codebook:
    def __init__(self, data: dict, path: Path | None = None):
        data = _with_both_languages(data)
        self.data = data
        self.path = path
        self.name = data["questionnaire"]
        self.title = data["title"]
        self.subject = data.get("subject", data["title"])
        self.references = list(data.get("references", []))
        self.missing_codes = {str(v).strip() for v in data.get("missing_codes", [])}
        self.scales = {
            name: Scale(name=name, min=s["min"], max=s["max"], labels=dict(s["labels"]),
                        top_box=tuple(s["top_box"]),
                        labels_en={int(k): v for k, v in s.get("labels_en", {}).items()},
                        exported_as=s.get("exported_as", "labels"), ordered=s.get("ordered"))
            for name, s in data["scales"].items()
        }
        self.constructs = data["constructs"]
        cols = []
        for c in data["columns"]:
            if "options" in c:
                for o in c["options"]:
                    cols.append(RawColumn(header=o["header"], code=o["code"], role=c["role"],
                                          label=o["label"], question=c["code"]))
            else:
                keys = ("header", "code", "role", "label", "construct", "scale", "reverse", "better",
                        "battery", "value_labels", "correct", "identity")
                cols.append(RawColumn(**{k: c[k] for k in keys if k in c}))
        self.columns: list[RawColumn] = cols

    # --- look-ups -------------------------------------------------------------------------
    @cached_property
    def by_code(self) -> dict[str, RawColumn]:
        return {c.code: c for c in self.columns}

    def role(self, *roles: str) -> list[RawColumn]:
        return [c for c in self.columns if c.role in roles]

    @property
    def items(self) -> list[RawColumn]:
        return self.role("item")

    @property
    def item_codes(self) -> list[str]:
        return [c.code for c in self.items]

    def construct_items(self, construct: str) -> list[str]:
        return [c.code for c in self.items if c.construct == construct]

    def scale_of(self, code: str) -> Scale:
        return self.scales[self.by_code[code].scale]

    def ordered_items(self, variables) -> list[str]:
        """The variables (of a model) the codebook makes ordered categories: items whose scale
        is_ordered. Variables it does not describe as scaled items are continuous."""
        return [v for v in variables if v in self.by_code and self.by_code[v].scale
                and self.scale_of(v).is_ordered]

    def lower_is_better(self, code: str) -> bool:
        c = self.by_code.get(code)
        return c is not None and c.better == "lower"

    def label(self, code: str, language: str = "en", marked: bool = False) -> str:
        """The label of a construct or column; `marked`: an item where lower is better says so."""
        if code in self.constructs:
            return self.constructs[code]["label"][language]
        text = self.by_code[code].label[language]
        if marked and self.lower_is_better(code):
            text += "（越低越好）" if language == "zh" else " (lower is better)"
        return text

    def type_names(self, language: str = "en") -> dict:
        """Respondent types by code as reports and figures name them: the codebook's answer text in
        Chinese, the code made readable ('unit' -> 'Unit') in English. Empty without a type question."""
        col = (self.role("respondent_type") or [None])[0]
        if col is None or not col.value_labels:
            return {}
        if language == "zh":
            return {v: str(k) for k, v in col.value_labels.items()}
        return {v: str(v).replace("_", " ")[:1].upper() + str(v).replace("_", " ")[1:] for v in col.value_labels.values()}

    @property
    def id_column(self) -> RawColumn | None:
        ids = self.role("id")
        return ids[0] if ids else None


def read_yaml(path: Path, kind: str, not_found_hint: str):
    """A codebook's YAML, or a clear error naming the file (and the line of a syntax error)."""
    if not path.exists():
        raise CSIError(f"{kind} not found", file=path, hint=not_found_hint)
    try:
        return yaml.load(path.read_text("utf-8"), Loader=SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CSIError(f"{kind} is not valid YAML{where}: {getattr(e, 'problem', e)}", file=path,
                       hint="fix the YAML syntax (indentation, quotes, colons) at that line.") from None


def load(path) -> Codebook:
    """Read a codebook, check it against the schema and for internal consistency."""
    path = Path(path)
    data = read_yaml(path, "codebook", "check the `codebook:` path of this district in config/config.yaml.")
    check(data, path)
    return Codebook(data, path)


def schema_problems(schema_: dict, data, message=lambda e: e.message) -> list[str]:
    """Every place a YAML document breaks its JSON schema, named by its path (and column code)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema_)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    return [f"at {_json_path(e.absolute_path, data)}: {message(e)}" for e in errors]


def check(data, path) -> None:
    problems = schema_problems(schema(), data, _schema_message)
    if problems:
        raise CSIError(f"codebook does not match its schema ({len(problems)} problem(s))", file=path,
                       problems=problems,
                       hint=f"compare with the schema in csi/schemas/{SCHEMA_FILE} "
                            "(data/codebooks/codebook.schema.json) and the default codebook.")
    problems = _consistency_problems(data)
    if problems:
        raise CSIError(f"codebook is inconsistent ({len(problems)} problem(s))", file=path,
                       problems=problems, hint="correct the entries named above.")


def _json_path(parts, data) -> str:
    out, node = "", data
    for p in parts:
        if isinstance(p, int):
            code = node[p].get("code") if isinstance(node[p], dict) else None
            out += f"[{p}]" + (f" ({code})" if code else "")
        else:
            out += f".{p}" if out else str(p)
        node = node[p]
    return out or "(top level)"


def _schema_message(e) -> str:
    if e.validator == "oneOf" and isinstance(e.instance, dict):
        return "a column needs exactly one of `header` (single column) or `options` (multi-select)"
    return e.message


def _consistency_problems(data: dict) -> list[str]:
    problems = []
    scales, constructs = data["scales"], data["constructs"]
    for name, s in scales.items():
        if s["min"] >= s["max"]:
            problems.append(f"scale {name}: min {s['min']} must be below max {s['max']}")
        for label, code in s["labels"].items():
            if not s["min"] <= code <= s["max"]:
                problems.append(f"scale {name}: label {label!r} has code {code} outside {s['min']}–{s['max']}")
        for code in s["top_box"]:
            if not s["min"] <= code <= s["max"]:
                problems.append(f"scale {name}: top_box code {code} outside {s['min']}–{s['max']}")
    seen_codes, seen_headers = {}, {}
    for i, c in enumerate(data["columns"]):
        entries = c.get("options", [c])
        for code in {c["code"], *(e["code"] for e in entries)}:
            if code in seen_codes:
                problems.append(f"columns[{i}]: code {code!r} is used twice")
            seen_codes[code] = i
        for e in entries:
            if "header" in e:
                if e["header"] in seen_headers:
                    problems.append(f"columns[{i}]: header {e['header']!r} is listed twice")
                seen_headers[e["header"]] = i
        if "scale" in c and c["scale"] not in scales:
            problems.append(f"columns[{i}] ({c['code']}): scale {c['scale']!r} is not defined under `scales`")
        if "construct" in c and c["construct"] not in constructs:
            problems.append(f"columns[{i}] ({c['code']}): construct {c['construct']!r} is not defined under `constructs`")
        if c.get("role") == "attention_check" and c.get("scale") in scales:
            if c["correct"] not in scales[c["scale"]]["labels"]:
                problems.append(f"columns[{i}] ({c['code']}): correct answer {c['correct']!r} is not a label of scale {c['scale']}")
    for code in seen_codes:
        if code in constructs:
            problems.append(f"code {code!r} is both a column and a construct: rename one (the model "
                            "could not tell the item from the factor)")
        if code in RESERVED:
            problems.append(f"code {code!r} is reserved for a column csi adds: choose another code")
    if sum(c.get("role") == "id" for c in data["columns"]) > 1:
        problems.append("more than one column has role `id`")
    if sum(c.get("role") == "respondent_type" for c in data["columns"]) > 1:
        problems.append("more than one column has role `respondent_type`")
    return problems
