# The per-transaction rating stream (好差评, issue 13) of the districts whose config entry names
# `evaluations:`. Months are independent partitions: one job per month (any core, any node), then
# the tables, then notebook 05.
import json

import yaml

EV_CODEBOOK = "data/codebooks/haochaping_2021.yaml"   # the default evaluation codebook
# district -> {export, codebook}: `evaluations:` is an export path or {export, codebook}
EV_ENTRY = {
    d: {"codebook": EV_CODEBOOK, **(e if isinstance(e, dict) else {"export": e})}
    for d in DISTRICTS
    if (e := config["districts"][d].get("evaluations"))
}
EVALUATED = list(EV_ENTRY)
# the simulated stream is made by a rule only where a district's `evaluations:` names its file
EV_SIM = None
if EV_ENTRY and Path("config/evaluations_simulation.yaml").exists():
    with open("config/evaluations_simulation.yaml", encoding="utf-8") as _spec:
        EV_SPEC = yaml.safe_load(_spec)
    if EV_ENTRY.get(EV_SPEC["district"], {}).get("export") == EV_SPEC["out"]:
        EV_SIM = EV_SPEC
EV_TABLES = ["rates_day", "rates_week", "rates_month", "rates_by", "heatmap", "peaks", "trend", "spc_window",
             "spc_service", "spc_signals", "reasons", "followup", "comment_keywords", "comment_topics",
             "survey_comparison"]


if EV_SIM:

    # The simulated stream (~320,000 ratings) is too large to commit: made from its seed,
    # byte-identically, when missing, under data/simulated/ (data/raw/ is never written).
    rule simulate_evaluations:
        input:
            lib=library("evaluations.simulate", "evaluations.codebook"),
            spec="config/evaluations_simulation.yaml",
            codebook=EV_SIM["codebook"],
        output:
            stream=EV_SIM["out"],
            truth=EV_SIM["truth"],
        resources:
            mem_mb=2048,
            runtime=15,
        log:
            f"results/{EV_SIM['district']}/logs/evaluations_simulate.log",
        conda:
            "../environment.yml"
        shell:
            "csi --log {log} evaluations simulate --spec {input.spec} --out {output.stream} --truth {output.truth}"


checkpoint evaluation_months:
    input:
        lib=library("evaluations"),
        export=lambda w: EV_ENTRY[w.district]["export"],
        codebook=lambda w: EV_ENTRY[w.district]["codebook"],
    output:
        months="results/{district}/evaluations/months.json",
    resources:
        mem_mb=1024,
        runtime=10,
    log:
        "results/{district}/logs/evaluations_months.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} evaluations months {input.export:q} --codebook {input.codebook:q} --out {output.months}"


rule evaluation_partition:
    input:
        lib=library("evaluations"),
        export=lambda w: EV_ENTRY[w.district]["export"],
        codebook=lambda w: EV_ENTRY[w.district]["codebook"],
    output:
        counts="results/{district}/evaluations/partitions/{month}/counts.parquet",
        followup="results/{district}/evaluations/partitions/{month}/followup.parquet",
        comments="results/{district}/evaluations/partitions/{month}/comments.parquet",
        exclusions="results/{district}/evaluations/partitions/{month}/exclusions.parquet",
        flow="results/{district}/evaluations/partitions/{month}/flow.json",
    wildcard_constraints:
        month=r"\d{4}-\d{2}|none",
    params:
        out=folder_of("flow"),
        salt_file=config["privacy"]["salt_file"],
    threads: 1
    resources:
        mem_mb=1536,
        runtime=10,
    log:
        "results/{district}/logs/evaluations/partition_{month}.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} evaluations partition {input.export:q} --codebook {input.codebook:q} --month {wildcards.month}"
        " --salt-file {params.salt_file:q} --threads {threads} --memory-limit 1GB --out {params.out}"


rule evaluation_tables:
    input:
        lib=library("evaluations"),
        export=lambda w: EV_ENTRY[w.district]["export"],
        codebook=lambda w: EV_ENTRY[w.district]["codebook"],
        # the partitions the stream has, known once evaluation_months has run
        partitions=lambda w: expand(
            "results/{district}/evaluations/partitions/{month}/flow.json",
            district=w.district,
            month=json.loads(Path(checkpoints.evaluation_months.get(district=w.district).output.months).read_text())[
                "months"
            ],
        ),
        survey=rules.describe.output.top_box,
    output:
        flow="results/{district}/evaluations/flow.json",
        exclusions="results/{district}/evaluations/exclusions.csv",
        tables=expand("results/{{district}}/evaluations/tables/{name}.csv", name=EV_TABLES),
    params:
        partitions=lambda w, input: " ".join(str(Path(p).parent) for p in input.partitions),
        out=folder_of("flow"),
        min_n=config["report"]["min_cell"],
        survey_period=lambda w: district(w).get("fieldwork", ""),
    resources:
        runtime=15,
        mem_mb=1024,
    log:
        "results/{district}/logs/evaluations_tables.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} evaluations tables {input.export:q} --codebook {input.codebook:q}"
        " --partitions {params.partitions} --survey {input.survey} --survey-period={params.survey_period:q}"
        " --min-n {params.min_n} --out {params.out}"


rule notebook_evaluations:
    input:
        lib=library("evaluations", "plots", "notebook"),
        notebook="notebooks/05_evaluations.ipynb",
        codebook=lambda w: EV_ENTRY[w.district]["codebook"],
        flow=rules.evaluation_tables.output.flow,
        tables=rules.evaluation_tables.output.tables,
    output:
        notebook="results/{district}/notebooks/05_evaluations.ipynb",
        figures=figures("results/{district}/figures",
                        ["evaluations_trend", "evaluations_heatmap", "evaluations_control_windows",
                         "evaluations_control_services", "evaluations_peaks_followup"], "Figures"),
    params:
        language=config["report"]["language"],
        title=district_name,
        tables=lambda w, input: str(Path(input.tables[0]).parent),
        figures=lambda w, output: str(Path(output.figures[0]).parent),
    resources:
        mem_mb=1536,
        runtime=10,
    log:
        "results/{district}/logs/notebook_05_evaluations.log",
    conda:
        "../environment.yml"
    shell:
        "papermill {input.notebook} {output.notebook} -k python3 --cwd . --no-progress-bar --log-level WARNING"
        " --no-request-save-on-cell-execute --autosave-cell-every 0"
        " -p district {wildcards.district} -p title {params.title:q} -p codebook {input.codebook:q}"
        " -p flow {input.flow} -p tables {params.tables} -p figures {params.figures}"
        " -p language {params.language} 2>&1 | tee {log} >&2 && csi strip-notebook {output.notebook}"
