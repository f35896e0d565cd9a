# Parameterized notebooks, executed by papermill: the template is an input, the executed copy
# and its figures are outputs. Every path reaches the notebook as a -p parameter.


rule notebook_sample:
    input:
        lib=library("plots", "codebook", "notebook"),
        notebook="notebooks/01_sample.ipynb",
        codebook=codebook,
        flow=rules.clean.output.flow,
        top_box=rules.describe.output.top_box,
        tables=rules.describe.output,
    output:
        notebook="results/{district}/notebooks/01_sample.ipynb",
        figures=figures("results/{district}/figures", ["top_box_by_type", "likert"], "Figures"),
    params:
        language=config["report"]["language"],
        title=district_name,
        tables=lambda w, input: str(Path(input.top_box).parent),
        figures=lambda w, output: str(Path(output.figures[0]).parent),
    resources:
        mem_mb=1536,
        runtime=10,
    log:
        "results/{district}/logs/notebook_01_sample.log",
    conda:
        "../environment.yml"
    shell:
        "papermill {input.notebook} {output.notebook} -k python3 --cwd . --no-progress-bar --log-level WARNING"
        " --no-request-save-on-cell-execute --autosave-cell-every 0"
        " -p district {wildcards.district} -p title {params.title:q} -p codebook {input.codebook:q}"
        " -p flow {input.flow} -p tables {params.tables} -p figures {params.figures}"
        " -p language {params.language} 2>&1 | tee {log} >&2 && csi strip-notebook {output.notebook}"


rule notebook_measurement:
    input:
        lib=library("plots", "codebook", "methods", "notebook"),
        notebook="notebooks/02_measurement.ipynb",
        codebook=codebook,
        reliability=rules.model.output.reliability,
        cfa_fit=rules.model.output.cfa_fit,
        tables=rules.model.output,
    output:
        notebook="results/{district}/notebooks/02_measurement.ipynb",
        figures=figures("results/{district}/figures", ["htmt"], "Figures"),
    params:
        language=config["report"]["language"],
        title=district_name,
        tables=lambda w, input: str(Path(input.reliability).parent),
        cfa=lambda w, input: str(Path(input.cfa_fit).parent),
        figures=lambda w, output: str(Path(output.figures[0]).parent),
    resources:
        mem_mb=1536,
        runtime=10,
    log:
        "results/{district}/logs/notebook_02_measurement.log",
    conda:
        "../environment.yml"
    shell:
        "papermill {input.notebook} {output.notebook} -k python3 --cwd . --no-progress-bar --log-level WARNING"
        " --no-request-save-on-cell-execute --autosave-cell-every 0"
        " -p district {wildcards.district} -p title {params.title:q} -p codebook {input.codebook:q}"
        " -p tables {params.tables} -p cfa {params.cfa} -p figures {params.figures}"
        " -p language {params.language} 2>&1 | tee {log} >&2 && csi strip-notebook {output.notebook}"


rule notebook_structural:
    input:
        lib=library("plots", "codebook", "methods", "notebook"),
        notebook="notebooks/03_structural.ipynb",
        codebook=codebook,
        fit=rules.model.output.fit,
        model=rules.model.output,
    output:
        notebook="results/{district}/notebooks/03_structural.ipynb",
        figures=figures("results/{district}/figures", ["path_diagram", "ipma"], "Figures"),
    params:
        language=config["report"]["language"],
        title=district_name,
        model=lambda w, input: str(Path(input.fit).parent),
        target=satisfaction,
        figures=lambda w, output: str(Path(output.figures[0]).parent),
    resources:
        mem_mb=1536,
        runtime=10,
    log:
        "results/{district}/logs/notebook_03_structural.log",
    conda:
        "../environment.yml"
    shell:
        "papermill {input.notebook} {output.notebook} -k python3 --cwd . --no-progress-bar --log-level WARNING"
        " --no-request-save-on-cell-execute --autosave-cell-every 0"
        " -p district {wildcards.district} -p title {params.title:q} -p codebook {input.codebook:q}"
        " -p model {params.model} -p satisfaction {params.target} -p figures {params.figures}"
        " -p language {params.language} 2>&1 | tee {log} >&2 && csi strip-notebook {output.notebook}"
