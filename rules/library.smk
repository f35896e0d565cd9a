# The library inputs of the rules (library() in rules/common.smk).

rule library_stamp:
    # Checksums of a set of csi source files: rewritten with the same bytes when nothing changed, so
    # only an edit of a file in the set reruns the rules that use it.
    input:
        lambda w: LIBRARY_SETS[w.name],
    output:
        "results/.library/{name}.sha256",
    log:
        "results/.library/{name}.log",
    localrule: True
    conda:
        "../environment.yml"
    shell:
        "sha256sum {input} > {output} 2> {log}"
