# Descriptives, measurement and structural CSI model, invariance by respondent type, per district.


rule describe:
    priority: 1
    input:
        lib=library("describe", "io"),
        data=rules.clean.output.data,
        codebook=codebook,
    output:
        top_box=shown("results/{district}/tables/top_box.csv", "top_box", "Tables"),
        distribution="results/{district}/tables/distribution.csv",
        options="results/{district}/tables/options.csv",
        item_stats="results/{district}/tables/item_stats.csv",
        profile=shown("results/{district}/tables/profile.csv", "profile", "Tables"),
    params:
        out=folder_of("top_box"),
    resources:
        mem_mb=1024,
        runtime=5,
    log:
        "results/{district}/logs/describe.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} describe {input.data} --codebook {input.codebook:q} --out {params.out}"


rule calibration:
    # A district that reproduces a published study (`published:` in its config entry: the simulation
    # spec holding the paper's figures and their sources): each figure beside its estimate and CI.
    input:
        lib=library("calibration", "io", "codebook"),
        spec=lambda w: district(w)["published"],
        top_box=rules.describe.output.top_box,
        distribution=rules.describe.output.distribution,
        options=rules.describe.output.options,
    output:
        calibration=shown("results/{district}/tables/calibration.csv", "calibration", "Tables"),
    params:
        tables=lambda w, input: str(Path(input.top_box).parent),
    resources:
        mem_mb=512,
        runtime=5,
    log:
        "results/{district}/logs/calibration.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} calibration --spec {input.spec:q} --tables {params.tables} --out {output.calibration}"


rule model:
    # The measurement model (CFA: reliability, validity) and the structural model with its
    # bootstrap, in one process: importing semopy costs ~3 s per process on a small machine.
    input:
        lib=library("psychometrics", "sem", "index", "bootstrap", "io"),
        data=rules.clean.output.data,
        model=model,
        codebook=codebook,
    output:
        reliability=shown("results/{district}/tables/reliability.csv", "reliability", "Tables"),
        fornell_larcker="results/{district}/tables/fornell_larcker.csv",
        htmt="results/{district}/tables/htmt.csv",
        htmt_verdicts=shown("results/{district}/tables/htmt_verdicts.csv", "htmt_verdicts", "Tables"),
        vif="results/{district}/tables/vif.csv",
        cfa_estimates="results/{district}/model/cfa/estimates.csv",
        cfa_fit="results/{district}/model/cfa/fit.json",
        estimates=shown("results/{district}/model/estimates.csv", "estimates", "Model"),
        fit=shown("results/{district}/model/fit.json", "fit", "Model"),
        bootstrap=shown("results/{district}/model/bootstrap.csv", "bootstrap", "Model"),
        index=shown("results/{district}/model/index.csv", "index", "Model"),
        ipma=shown("results/{district}/model/ipma.csv", "ipma_table", "Model"),
        weights="results/{district}/model/index_weights.csv",
        priorities=shown("results/{district}/model/priorities.csv", "priorities", "Model"),
        priority_ranks="results/{district}/model/priority_ranks.csv",
        index_draws="results/{district}/model/index_draws.csv",
        sensitivity=shown("results/{district}/model/sensitivity.csv", "sensitivity", "Model"),
    params:
        tables=folder_of("reliability"),
        cfa_out=folder_of("cfa_fit"),
        out=folder_of("fit"),
        draws=config["bootstrap"],
        seed=config["seed"],
        target=satisfaction,
        estimation=estimation,
    threads: bootstrap_workers()
    priority: 1  # the longest job of a district, and the comparison waits for all of them
    resources:
        mem_mb=2048,
        runtime=30,
    log:
        "results/{district}/logs/model.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} measurement {input.model:q} {input.data} --out {params.tables} --cfa-out {params.cfa_out}"
        " --codebook {input.codebook:q}"
        " --then fit {input.model:q} {input.data} --out {params.out} --codebook {input.codebook:q}"
        " --target {params.target} {params.estimation} --bootstrap {params.draws} --seed {params.seed}"
        " --stream {wildcards.district} --jobs {threads}"


rule invariance_type:
    input:
        lib=library("invariance", "psychometrics", "sem", "io"),
        data=rules.clean.output.data,
        model=model,
        codebook=codebook,
    output:
        invariance=shown("results/{district}/model/invariance_respondent_type/invariance.csv", "invariance", "Model"),
        latent_means="results/{district}/model/invariance_respondent_type/latent_means.csv",
        score_tests="results/{district}/model/invariance_respondent_type/invariance_score_tests.csv",
    params:
        out=folder_of("invariance"),
        estimator=lambda w: district(w).get("estimator", config["estimator"]),
    resources:
        mem_mb=1536,
        runtime=15,
    log:
        "results/{district}/logs/invariance_type.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} invariance {input.model:q} {input.data} --cfa --codebook {input.codebook:q}"
        " --estimator {params.estimator} --out {params.out}"


rule priorities_type:
    # The CSI model refitted within each respondent type: indices, IPMA and priorities per type.
    input:
        lib=library("groups", "index", "sem", "io"),
        data=rules.clean.output.data,
        model=model,
        codebook=codebook,
    output:
        fit="results/{district}/model/by_respondent_type/fit_by_group.csv",
        index="results/{district}/model/by_respondent_type/index_by_group.csv",
        ipma=shown("results/{district}/model/by_respondent_type/ipma_by_group.csv", "ipma_by_type", "Model"),
        priorities="results/{district}/model/by_respondent_type/priorities_by_group.csv",
    params:
        out=folder_of("fit"),
        draws=config["bootstrap"],
        seed=config["seed"],
        target=satisfaction,
        estimation=estimation,
    threads: bootstrap_workers()
    resources:
        mem_mb=2048,
        runtime=30,
    log:
        "results/{district}/logs/priorities_type.log",
    conda:
        "../environment.yml"
    shell:
        "csi --log {log} groups {input.model:q} {input.data} --codebook {input.codebook:q} --target {params.target}"
        " {params.estimation} --bootstrap {params.draws} --seed {params.seed} --stream {wildcards.district}"
        " --jobs {threads} --out {params.out}"
