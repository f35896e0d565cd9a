"""Improvement priorities within each group of respondents (e.g. the codebook's respondent types).

The CSI model is refitted to each group's respondents alone, with the estimator and bootstrap of the
whole sample, and each group gets its own indices, importance-performance table and priorities
(index.py): groups that weigh the drivers differently, or rate them differently, can need different
first improvements. A group the model cannot be fitted to (too few answers, an item with one answer
only, no convergence, an improper solution) gets no numbers, and the reason is written instead.

Comparing the groups' numbers with each other assumes the items measure the same thing in each
group (metric invariance for importances, scalar for indices): see invariance/.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import index, methods, sem
from .codebook import Codebook
from .errors import CSIError
from .sem.checks import TooFewRespondents

FIT_COLUMNS = ["group", "n", "estimator", "missing", "converged", "admissible", "chisq", "df", "cfi", "rmsea",
               "srmr", "draws", "draws_left_out", "reason", "reason_kind"]
# reason_kind: "data" (the group's data do not support the model: too few rows, an item without
# variance), "estimation" (the estimator cannot be computed, e.g. a polychoric correlation at its
# bound), "inadmissible" (estimated, but an improper solution); "" when the group was analysed.
# draws: the bootstrap draws the group's CIs and priority shares use; draws_left_out: refits that did
# not converge or were inadmissible (index.py)


def _fit_row(group, n, result=None, reason="", kind=""):
    row = dict.fromkeys(FIT_COLUMNS, np.nan) | {"group": group, "n": n, "reason": reason, "reason_kind": kind}
    if result is None:
        row.update(estimator="", missing="", converged=False, admissible=False, draws=0, draws_left_out=0)
        return row
    m = result.measures
    sc = "_scaled" if m.get("chisq_scaled") is not None else ""
    ex = result.extra_draws
    used = int((~np.isnan(ex).any(axis=1)).sum()) if ex is not None and len(ex) else 0
    row.update(estimator=m["estimator"], missing=m.get("missing", ""), converged=bool(m.get("converged", True)),
               admissible=bool(m["admissible"]), chisq=m["chisq" + sc], df=m["df"], cfi=methods.value(m, "cfi"),
               rmsea=methods.value(m, "rmsea"), srmr=m["srmr"], draws=used,
               draws_left_out=(len(ex) - used) if ex is not None else 0,
               reason="; ".join(m.get("diagnosis", [])) if not m["admissible"] else "",
               reason_kind="" if m["admissible"] else "inadmissible")
    return row


def analyse(description: str, data: pd.DataFrame, column: str, cb: Codebook, target: str, *,
            estimator: str = "auto", missing: str = "auto", bootstrap: int = 0, seed: int = 0,
            stream: str | None = None, jobs: int = 1, source=None) -> dict[str, pd.DataFrame]:
    """fit_by_group.csv, index_by_group.csv, ipma_by_group.csv, priorities_by_group.csv, each with a
    `group` column (the group's value in `column`, in order of size, largest first)."""
    sem.check_groups(data, column, source)
    groups = data[column].value_counts(dropna=True, sort=True)
    groups = groups.sort_index(kind="stable").sort_values(ascending=False, kind="stable")   # ties: by name
    fits, idx, ipma, prio = [], [], [], []
    categorical = cb.ordered_items(sem.observed_variables(description))
    for g, n in groups.items():
        part = data[data[column] == g].reset_index(drop=True)
        try:
            sem.check_data(description, part, data_file=source,
                           missing="fiml" if str(missing).lower() == "auto" else missing)
        except CSIError as e:       # the reason is the finding: this group cannot be analysed alone
            fits.append(_fit_row(g, int(n), reason=e.message, kind="data"))
            continue
        try:
            model = sem.Model(description, part)
            spec = index.spec(model, description, cb, target=target)
            result = sem.estimate(description, part, estimator=estimator, missing=missing, bootstrap=bootstrap,
                                  seed=seed, stream=f"{stream}/{column}={g}" if stream else f"{column}={g}",
                                  jobs=jobs, extra=index.statistic(spec), model=model, categorical=categorical,
                                  source=source)
        except CSIError as e:
            kind = "data" if isinstance(e, TooFewRespondents) else "estimation"
            fits.append(_fit_row(g, int(n), reason=e.message, kind=kind))
            continue
        fits.append(_fit_row(g, int(n), result))
        if result.measures["admissible"]:
            i, p = index.tables(result, spec, result.data.to_numpy(float), result.extra_draws)
            w = index.weights(result.model, result.fit.x, spec)
            pr = index.priorities(p, w, result.data, cb)
        else:
            i, p, _, pr = index.withheld(spec)
        idx.append(i.assign(group=g))
        ipma.append(p.assign(group=g))
        prio.append(pr.assign(group=g))

    def stack(frames):
        if not frames:
            return pd.DataFrame(columns=["group"])
        out = pd.concat(frames, ignore_index=True)
        return out[["group", *[c for c in out.columns if c != "group"]]]

    return {"fit_by_group.csv": pd.DataFrame(fits, columns=FIT_COLUMNS), "index_by_group.csv": stack(idx),
            "ipma_by_group.csv": stack(ipma), "priorities_by_group.csv": stack(prio)}
