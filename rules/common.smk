# Helpers shared by the rules (and only here).


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
