# Helpers shared by the rules (and only here).
from pathlib import Path


def _districts():
    chosen = config.get("analyse", list(config["districts"]))
    unknown = [d for d in chosen if d not in config["districts"]]
    if unknown:
        raise ValueError(
            f"config/config.yaml: `analyse` names district(s) {', '.join(unknown)} that have no "
            f"entry under `districts` (known: {', '.join(config['districts'])}). "
            "Add an entry with `raw:` and `codebook:` or fix the name."
        )
    return chosen


DISTRICTS = _districts()


wildcard_constraints:
    district="|".join(DISTRICTS),


def district(wildcards):
    return config["districts"][wildcards.district]


def raw_export(wildcards):
    return district(wildcards)["raw"]


def codebook(wildcards):
    return district(wildcards)["codebook"]


def model(wildcards):
    return district(wildcards).get("model", config["model"])


def satisfaction(wildcards):
    return district(wildcards).get("satisfaction", config["satisfaction"])


def has_respondent_type(name):
    """Does this district's codebook have a respondent_type column (for invariance by type)?"""
    import yaml

    book = yaml.safe_load(Path(config["districts"][name]["codebook"]).read_text(encoding="utf-8"))
    return any(c.get("role") == "respondent_type" for c in book["columns"])


def district_name(wildcards):
    return district(wildcards).get("name", wildcards.district)


def folder_of(name):
    """params helper: the folder of output `name` (commands that write several files into it)."""
    return lambda wildcards, output: str(Path(output[name]).parent)


def _same_design(d):
    first = config["districts"][DISTRICTS[0]]
    entry = config["districts"][d]
    return entry["codebook"] == first["codebook"] and entry.get("model", config["model"]) == first.get(
        "model", config["model"]
    )


COMPARED = [d for d in DISTRICTS if _same_design(d)]
