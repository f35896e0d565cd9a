# Paper-style reports (typst PDF + HTML), assembled from the result files only: one per district
# and one for the comparison of districts.


rule report:
    input:
        lib=library("report", "codebook"),
        flow=rules.clean.output.flow,
        tables=rules.describe.output,
        model=rules.model.output,
        invariance=lambda w: rules.invariance_type.output if has_respondent_type(w.district) else [],
        by_type=lambda w: rules.priorities_type.output if has_respondent_type(w.district) else [],
        figures=rules.notebook_sample.output.figures + rules.notebook_structural.output.figures,
        league=comparison_tables,
        names=lambda w: rules.comparison_titles.output if comparison_tables(w) else [],
        codebook=codebook,
        calibration=lambda w: rules.calibration.output if district(w).get("published") else [],
        # the rating stream's tables and figures (rules/evaluations.smk), where `evaluations:` names one
        evaluations=lambda w: (
            rules.evaluation_tables.output + rules.notebook_evaluations.output.figures if w.district in EV_ENTRY else []
        ),
    output:
        pdf=report(
            f"results/{{district}}/{REPORT}/report.pdf",
            caption="captions/report.rst",
            category="Reports",
            labels={"district": "{district}", "file": "report.pdf"},
        ),
        html=f"results/{{district}}/{REPORT}/report.html",
        source=f"results/{{district}}/{REPORT}/report.typ",
        tables=directory(f"results/{{district}}/{REPORT}/tables"),   # each table as CSV and LaTeX
    params:
        results=lambda w, input: str(Path(input.flow).parent.parent),
        out=folder_of("pdf"),
        title=lambda w: district_title(w.district),
        seed=config["seed"],
        target=satisfaction,
        language=config["report"]["language"],
        min_cell=config["report"]["min_cell"],
        frame=lambda w: in_language(district(w), "frame"),
        fieldwork=lambda w: in_language(district(w), "fieldwork"),
        comparison=lambda w, input: f"--comparison {Path(input.league).parent.parent}" if input.league else "",
        names=lambda w, input: f"--names {input.names}" if input.names else "",
    resources:
        mem_mb=1024,
        runtime=5,
    log:
        "results/{district}/logs/report.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} report --results {params.results} --codebook {input.codebook:q} --title {params.title:q}"
        " --seed {params.seed} --satisfaction {params.target} --language {params.language}"
        " --min-cell {params.min_cell} --frame={params.frame:q} --fieldwork={params.fieldwork:q}"
        " {params.comparison} {params.names} --out {params.out}"


rule report_comparison:
    priority: 1
    input:
        lib=library("report", "codebook"),
        tables=rules.compare.output,
        figures=rules.notebook_districts.output.figures,
        names=rules.comparison_titles.output,
        codebook=config["districts"][COMPARED[0]]["codebook"],
    output:
        pdf=report(
            f"results/comparison/{REPORT}/report.pdf",
            caption="captions/report_comparison.rst",
            category="Reports",
            labels={"district": "comparison", "file": "report.pdf"},
        ),
        html=f"results/comparison/{REPORT}/report.html",
        source=f"results/comparison/{REPORT}/report.typ",
        tables=directory(f"results/comparison/{REPORT}/tables"),
    params:
        results=lambda w, input: str(Path(input.tables[0]).parent.parent),
        out=folder_of("pdf"),
        seed=config["seed"],
        target=config["districts"][COMPARED[0]].get("satisfaction", config["satisfaction"]),
        language=config["report"]["language"],
        criterion=config["comparison"]["criterion"],
        draws=config["bootstrap"],
    resources:
        mem_mb=1024,
        runtime=5,
    log:
        "results/comparison/logs/report.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} report comparison --results {params.results} --codebook {input.codebook:q}"
        " --seed {params.seed} --satisfaction {params.target} --language {params.language}"
        " --criterion {params.criterion} --bootstrap {params.draws} --names {input.names} --out {params.out}"
