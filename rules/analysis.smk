# Descriptives, measurement model and the structural CSI model, per district.


rule describe:
    input:
        data=rules.clean.output.data,
        codebook=codebook,
    output:
        top_box="results/{district}/tables/top_box.csv",
        distribution="results/{district}/tables/distribution.csv",
        options="results/{district}/tables/options.csv",
        item_stats="results/{district}/tables/item_stats.csv",
        profile="results/{district}/tables/profile.csv",
    params:
        out=folder_of("top_box"),
    log:
        "results/{district}/logs/describe.log",
    conda:
        "../environment.yml"
    shell:
        "csi describe {input.data} --codebook {input.codebook:q} --out {params.out} > {log} 2>&1"


rule measurement:
    input:
        data=rules.clean.output.data,
        model=model,
    output:
        reliability="results/{district}/tables/reliability.csv",
        fornell_larcker="results/{district}/tables/fornell_larcker.csv",
        htmt="results/{district}/tables/htmt.csv",
        htmt_verdicts="results/{district}/tables/htmt_verdicts.csv",
        vif="results/{district}/tables/vif.csv",
        cfa_estimates="results/{district}/model/cfa/estimates.csv",
        cfa_fit="results/{district}/model/cfa/fit.json",
    params:
        out=folder_of("reliability"),
        cfa_out=folder_of("cfa_fit"),
    log:
        "results/{district}/logs/measurement.log",
    conda:
        "../environment.yml"
    shell:
        "csi measurement {input.model:q} {input.data} --out {params.out} --cfa-out {params.cfa_out}"
        " > {log} 2>&1"


rule structural:
    input:
        data=rules.clean.output.data,
        model=model,
        codebook=codebook,
    output:
        estimates="results/{district}/model/estimates.csv",
        fit="results/{district}/model/fit.json",
        bootstrap="results/{district}/model/bootstrap.csv",
        index="results/{district}/model/index.csv",
        ipma="results/{district}/model/ipma.csv",
        weights="results/{district}/model/index_weights.csv",
        priorities="results/{district}/model/priorities.csv",
    params:
        out=folder_of("fit"),
        draws=config["bootstrap"],
        seed=config["seed"],
        target=satisfaction,
    threads: 2
    log:
        "results/{district}/logs/structural.log",
    conda:
        "../environment.yml"
    shell:
        "csi fit {input.model:q} {input.data} --out {params.out} --codebook {input.codebook:q}"
        " --target {params.target} --bootstrap {params.draws} --seed {params.seed} --jobs {threads}"
        " --quiet > {log} 2>&1"


rule invariance_type:
    input:
        data=rules.clean.output.data,
        model=model,
        codebook=codebook,
    output:
        invariance="results/{district}/model/invariance_respondent_type/invariance.csv",
    params:
        out=folder_of("invariance"),
    log:
        "results/{district}/logs/invariance_type.log",
    conda:
        "../environment.yml"
    shell:
        "csi invariance {input.model:q} {input.data} --cfa --codebook {input.codebook:q} --out {params.out}"
        " > {log} 2>&1"
