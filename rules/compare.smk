# Comparison of the districts that share a questionnaire and a model.


rule comparison_districts:
    # The districts to compare, one per line (a file: a thousand would not fit on a command line).
    input:
        "rules/templates/districts.tsv.jinja2",
    output:
        "results/comparison/districts.tsv",
    params:
        # the config's name whatever the report language: switching language does not rerun the comparison
        rows=[(d, f"results/{d}", config["districts"][d].get("name", d).replace("\t", " ")) for d in COMPARED],
    localrule: True
    log:
        "results/comparison/logs/districts.log",   # nothing to log: a template is rendered
    template_engine:
        "jinja2"


rule comparison_titles:
    # The compared districts' names in the report language, for the reports (not the computation).
    input:
        "rules/templates/districts.tsv.jinja2",
    output:
        f"results/comparison/titles_{LANGUAGE}.tsv",
    params:
        rows=[(d, f"results/{d}", district_title(d).replace("\t", " ")) for d in COMPARED],
    localrule: True
    log:
        f"results/comparison/logs/titles_{LANGUAGE}.log",
    template_engine:
        "jinja2"


rule compare:
    priority: 1  # the comparison chain ends the run: start it as soon as its inputs exist
    input:
        lib=library("compare", "standardize", "io"),
        results=expand("results/{district}/model/index.csv", district=COMPARED),
        draws=expand("results/{district}/model/index_draws.csv", district=COMPARED),
        tables=expand("results/{district}/tables/top_box.csv", district=COMPARED),
        profiles=expand("results/{district}/tables/profile.csv", district=COMPARED),
        data=expand("results/{district}/data/clean.parquet", district=COMPARED),
        model=config["districts"][COMPARED[0]].get("model", config["model"]),
        codebook=config["districts"][COMPARED[0]]["codebook"],
        districts=rules.comparison_districts.output[0],
    output:
        league=shown("results/comparison/tables/league.csv", "league", "Tables", "comparison"),
        ranks="results/comparison/tables/league_ranks.csv",
        differences="results/comparison/tables/league_differences.csv",
        criterion="results/comparison/tables/criterion.csv",
        summary=shown("results/comparison/tables/criterion_summary.csv", "criterion_summary", "Tables", "comparison"),
        invariance=shown("results/comparison/tables/invariance_districts.csv", "invariance_districts", "Tables", "comparison"),
        latent_means="results/comparison/tables/latent_means_districts.csv",
        mix="results/comparison/tables/mix.csv",
        standardized="results/comparison/tables/standardized.csv",
    params:
        estimator=config["estimator"],
        criterion=config["comparison"]["criterion"],
        mix=lambda w: (
            "--mix " + ",".join(f"{k}={v}" for k, v in config["comparison"]["mix"].items())
            if config["comparison"].get("mix")
            else ""
        ),
        out=folder_of("league"),
    resources:
        mem_mb=scaled(2048, 3),
        runtime=30,
    log:
        "results/comparison/logs/compare.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} compare --model {input.model:q} --codebook {input.codebook:q} --districts {input.districts}"
        " --criterion {params.criterion} {params.mix} --estimator {params.estimator} --out {params.out}"


rule notebook_districts:
    priority: 1
    input:
        lib=library("plots", "codebook", "notebook"),
        notebook="notebooks/04_districts.ipynb",
        codebook=config["districts"][COMPARED[0]]["codebook"],
        league=rules.compare.output.league,
        tables=rules.compare.output,
    output:
        notebook="results/comparison/notebooks/04_districts.ipynb",
        figures=figures("results/comparison/figures", ["forest_satisfaction", "criterion_heatmap"], "Figures", "comparison"),
    params:
        language=config["report"]["language"],
        tables=lambda w, input: str(Path(input.league).parent),
        figures=lambda w, output: str(Path(output.figures[0]).parent),
        criterion=config["comparison"]["criterion"],
        target=config["districts"][COMPARED[0]].get("satisfaction", config["satisfaction"]),
    resources:
        mem_mb=1536,
        runtime=10,
    log:
        "results/comparison/logs/notebook_04_districts.log",
    conda:
        "../environment.yml"
    shell:
        "papermill {input.notebook} {output.notebook} -k python3 --cwd . --no-progress-bar --log-level WARNING"
        " --no-request-save-on-cell-execute --autosave-cell-every 0"
        " -p codebook {input.codebook:q} -p tables {params.tables} -p figures {params.figures}"
        " -p criterion {params.criterion} -p satisfaction {params.target} -p language {params.language} 2>&1 | tee {log} >&2 && csi strip-notebook {output.notebook}"
