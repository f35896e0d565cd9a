# Validate each raw export against its codebook, then clean it with a full audit trail.


rule validate:
    priority: 1  # data, then models first: the comparison at the end waits for every model
    input:
        lib=library("validate", "io"),
        raw=raw_export,
        codebook=codebook,
    output:
        coded="results/{district}/data/coded.parquet",
        recoded="results/{district}/data/recoded_cells.csv",
        report="results/{district}/data/validation.json",
    params:
        read=read_options,
        salt_file=config["privacy"]["salt_file"],
        out_of_range=config["clean"]["out_of_range"],
    resources:
        # measured (benchmarks/validate_scale.py): 355 MiB at 43 MB of export, 1930 MiB at 435 MB
        mem_mb=scaled(512, 5),
        runtime=scaled(5, 0.02),
    log:
        "results/{district}/logs/validate.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} validate {input.raw:q} --codebook {input.codebook:q} {params.read}"
        " --salt-file {params.salt_file:q} --out-of-range {params.out_of_range}"
        " --coded {output.coded} --recoded {output.recoded} --report {output.report}"


rule clean:
    priority: 1
    input:
        lib=library("clean", "io"),
        coded=rules.validate.output.coded,
        report=rules.validate.output.report,
        codebook=codebook,
    output:
        data="results/{district}/data/clean.parquet",
        exclusions="results/{district}/data/exclusions.csv",
        flow="results/{district}/data/flow.json",
    params:
        min_duration=config["clean"]["min_duration_seconds"],
        min_items=config["clean"]["straightlining"]["min_items"],
        any_grid="" if config["clean"]["straightlining"]["require_reversed"] else "--straightline-any",
        max_missing=config["clean"]["max_item_missing"],
    resources:
        mem_mb=scaled(1024, 10),
        runtime=scaled(5, 0.2),
    log:
        "results/{district}/logs/clean.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} clean {input.coded} --codebook {input.codebook:q} --validation {input.report}"
        " --min-duration {params.min_duration} --straightline-min-items {params.min_items}"
        " {params.any_grid} --max-item-missing {params.max_missing}"
        " --data {output.data} --exclusions {output.exclusions} --flow {output.flow}"
