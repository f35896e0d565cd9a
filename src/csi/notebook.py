"""Executed notebooks without what differs between runs of the same inputs: papermill's and the
kernel's timings (start and end times, durations) in the notebook's and every cell's metadata,
and the random cell ids (numbered instead). What is left (sources, outputs, parameters, status)
is the same bytes for the same inputs."""

from __future__ import annotations

from pathlib import Path

TIMING = ("start_time", "end_time", "duration")


def strip(path) -> None:
    """Remove the run's timings from an executed notebook, in place (atomically); written as
    nbformat writes notebooks (sorted keys, indent 1)."""
    import json

    from .io import atomic_outputs

    path = Path(path)
    nb = json.loads(path.read_text("utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if "id" in cell:
            cell["id"] = f"cell-{i}"
    for meta in [nb["metadata"], *(c["metadata"] for c in nb["cells"])]:
        meta.pop("execution", None)                   # the kernel's iopub/shell timestamps
        for key in TIMING:
            meta.get("papermill", {}).pop(key, None)
    with atomic_outputs(path) as (tmp,):
        tmp.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n", "utf-8")
