# Social-security service satisfaction (CSI) pipeline. Stages live in rules/*.smk.
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


if config.get("district_table"):  # many districts: a table reads in milliseconds (csi/districts.py)
    from csi.districts import merge

    merge(config)


validate(config, "config/config.schema.yaml")


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/analysis.smk"
include: "rules/notebooks.smk"
include: "rules/compare.smk"
include: "rules/report.smk"
include: "rules/evaluations.smk"
include: "rules/library.smk"


rule all:
    input:
        expand(
            "results/{district}/data/{name}",
            district=DISTRICTS,
            name=["clean.parquet", "exclusions.csv", "flow.json"],
        ),
        expand(
            "results/{district}/notebooks/{nb}.ipynb",
            district=DISTRICTS,
            nb=["01_sample", "02_measurement", "03_structural"],
        ),
        expand(
            "results/{district}/model/invariance_respondent_type/invariance.csv",
            district=[d for d in DISTRICTS if has_respondent_type(d)],
        ),
        rules.notebook_districts.output.notebook if len(COMPARED) > 1 else [],
        rules.report_comparison.output if len(COMPARED) > 1 else [],
        expand("results/{district}/{report}/report.{ext}", district=DISTRICTS, report=REPORT, ext=["pdf", "html"]),
        # the rating stream, for districts whose config names `evaluations:` (rules/evaluations.smk)
        expand("results/{district}/notebooks/05_evaluations.ipynb", district=EVALUATED),
