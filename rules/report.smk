# Paper-style report per district (typst PDF), assembled from the result files only.


rule report:
    input:
        flow=rules.clean.output.flow,
        tables=rules.describe.output,
        measurement=rules.measurement.output,
        model=rules.structural.output,
        figures=rules.notebook_sample.output.figures + rules.notebook_structural.output.figures,
        codebook=codebook,
    output:
        pdf="results/{district}/report/report.pdf",
        html="results/{district}/report/report.html",
        source="results/{district}/report/report.typ",
    params:
        results=lambda w, input: str(Path(input.flow).parent.parent),
        out=folder_of("pdf"),
        title=district_name,
        seed=config["seed"],
        target=satisfaction,
    log:
        "results/{district}/logs/report.log",
    conda:
        "../environment.yml"
    shell:
        "csi report --results {params.results} --codebook {input.codebook:q} --title {params.title:q}"
        " --seed {params.seed} --satisfaction {params.target} --out {params.out} > {log} 2>&1"
