"""Measurement invariance: configural, metric and scalar multigroup fits (ML, MLM or MLR), partial
invariance by score tests, and latent mean differences. Ordered items (WLSMV): ordinal.py, with
a thresholds step and no partial search.

The fits (multigroup.py) are joint, constrained multigroup ML fits with a mean structure,
verified against lavaan's cfa(..., group = , group.equal = , group.partial = , estimator = )
(tests/fixtures/lavaan, scripts/lavaan_invariance.R).

Each step is compared with the one before (compared_with): chi-square difference (ML) or the
Satorra-Bentler (2001) scaled difference (MLM, MLR: lavTestLRT's default for them), and the
deltas of CFI, RMSEA and SRMR, robust CFI and RMSEA with a robust estimator. Verdicts: Cheung &
Rensvold (2002), delta CFI >= -.010; Chen (2007), also delta RMSEA <= .015 and delta SRMR <= .030
(metric) or <= .010 (scalar).

Partial invariance (Byrne, Shavelson & Muthen 1989): where metric or scalar invariance does NOT
hold (delta CFI), the equality constraint of that step with the largest univariate score test
(lavaan's lavTestScore(fit)$uni) is released in all groups (lavaan's group.partial), the model
refitted, and so on until delta CFI passes, nothing is left to free, or half of the step's
constraints are free (max_free). Marker loadings are fixed, never freed; an intercept is not
freed if its factor would keep no equal intercept (its latent mean would not be identified).
The partial model is a row "metric (partial)" / "scalar (partial)" with the released
parameters, in order, in `freed` and their score statistics in `freed_score`; the scalar step
keeps the loadings a partial metric model freed.

Latent means (groups 2..G against the first, whose means are 0) come from the scalar model if
scalar invariance holds, else from the partial scalar model (comparable says whether either
holds), with ML information-based or robust (sandwich) standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .. import sem
from .multigroup import ESTIMATORS, MultiGroup, gamma_means

STEPS = {"configural": set(), "metric": {"loadings"}, "scalar": {"loadings", "intercepts"}}
KIND = {"metric": "loadings", "scalar": "intercepts"}
Z975 = float(stats.norm.ppf(0.975))

__all__ = ["ESTIMATORS", "STEPS", "Invariance", "MultiGroup", "analyse", "gamma_means", "invariance",
           "means_table", "score_tests", "verdict"]


@dataclass
class StepFit:
    name: str                  # "configural", "metric", "scalar (partial)", ...
    step: str                  # configural / metric / scalar
    mg: MultiGroup
    theta: np.ndarray
    row: dict                  # the measures
    vcov: np.ndarray
    c: float | None = None     # scaling factor of the chi-square (robust estimators)
    freed: list = field(default_factory=list)   # (label, score statistic) released, in order


@dataclass
class Invariance:
    table: pd.DataFrame         # one row per model (invariance.csv)
    latent_means: pd.DataFrame  # latent means of groups 2..G against group 1 (latent_means.csv)
    score_tests: pd.DataFrame   # the univariate score tests behind each released parameter
    fits: dict                  # model name -> StepFit


def verdict(step: str, d_cfi: float, d_rmsea: float, d_srmr: float, partial: bool = False) -> str:
    name = f"partial {step}" if partial else step
    cr = d_cfi >= -0.010                          # Cheung & Rensvold (2002)
    chen = cr and d_rmsea <= 0.015 and d_srmr <= (0.030 if step == "metric" else 0.010)  # Chen (2007)
    if cr and chen:
        return f"{name} invariance holds (Cheung & Rensvold 2002; Chen 2007)"
    if cr:
        return (f"{name} invariance holds by delta CFI (Cheung & Rensvold 2002) but not by "
                f"Chen's (2007) delta RMSEA/SRMR limits: interpret with care")
    return f"{name} invariance does NOT hold (delta CFI {d_cfi:.3f} < -.010; Cheung & Rensvold 2002)"


def fit_step(mg: MultiGroup, name: str, step: str, estimator: str, freed=()) -> StepFit:
    theta, F, gnorm = mg.fit()
    row = mg.measures(theta, F, gnorm)
    vcov, c, c_b = mg.inference(theta, estimator)
    if estimator != "ML":
        row.update(mg.robust_measures(row, c, c_b))
    return StepFit(name, step, mg, theta, row, vcov, c, list(freed))


def compare(new: StepFit, ref: StepFit, estimator: str) -> dict:
    """Differences of `new` against the less constrained `ref`, and the verdict."""
    a, b = new.row, ref.row
    out = {f"delta_{k}": a[k] - b[k] for k in ("chisq", "df", "cfi", "rmsea", "srmr")}
    out["compared_with"] = ref.name
    if estimator == "ML":
        out["delta_pvalue"] = float(stats.chi2.sf(out["delta_chisq"], out["delta_df"]))
        d_cfi, d_rmsea = out["delta_cfi"], out["delta_rmsea"]
    else:   # Satorra & Bentler (2001), as lavTestLRT(method = "satorra.bentler.2001")
        m = out["delta_df"]
        cd = (a["df"] * new.c - b["df"] * ref.c) / m if m > 0 else np.nan
        scaled = out["delta_chisq"] / cd if cd > 0 else np.nan
        out.update(delta_chisq_scaled=scaled, delta_scaling_factor=cd if cd > 0 else np.nan,
                   delta_pvalue=float(stats.chi2.sf(scaled, m)) if np.isfinite(scaled) else np.nan,
                   delta_cfi_robust=a["cfi_robust"] - b["cfi_robust"],
                   delta_rmsea_robust=a["rmsea_robust"] - b["rmsea_robust"])
        d_cfi, d_rmsea = out["delta_cfi_robust"], out["delta_rmsea_robust"]
    out["verdict"] = verdict(new.step, d_cfi, d_rmsea, out["delta_srmr"], partial=bool(new.freed)
                             and new.name.endswith("(partial)"))
    return out


def holds(compared: dict) -> bool:
    return "does NOT hold" not in compared["verdict"]


def score_tests(mg: MultiGroup, theta: np.ndarray, kind: str | None = None) -> pd.DataFrame:
    """lavTestScore(fit)$uni: for each equality constraint (a parameter of group 1 equal to its
    copy in group g), the score statistic of releasing that constraint alone (df 1). kind:
    "loadings" or "intercepts" (default both)."""
    pieces = mg.score_pieces(theta)
    rows = []
    for k in ([kind] if kind else ["loadings", "intercepts"]):
        for key in mg.constrained(k):
            for gi in range(1, len(mg.groups)):
                x2 = mg.relabel(mg.equal, mg.free, split=(key, gi)).score_statistic(pieces)
                rows.append({"param": mg.labels[key], "kind": k, "group": mg.groups[gi].name, "X2": x2,
                             "df": 1, "pvalue": float(stats.chi2.sf(x2, 1)), "key": key})
    return pd.DataFrame(rows, columns=["param", "kind", "group", "X2", "df", "pvalue", "key"])


def _identified_without(mg: MultiGroup, key) -> bool:
    """Freeing intercept `key` leaves every factor it indicates an equal intercept."""
    if key[0] != "nu":
        return True
    j = key[1]
    equal = {k[1] for k in mg.constrained("intercepts")} - {j}
    return all(equal & set(ind) for ind in mg.indicators.values() if j in ind)


def _release(start: StepFit, ref: StepFit, estimator: str, max_free: int | None, log: list) -> StepFit:
    """Free the step's constraints one at a time (largest score test first) until it holds."""
    kind = KIND[start.step]
    cap = max_free if max_free is not None else max(1, len(start.mg.constrained(kind)) // 2)
    current, freed = start, []
    while len(freed) < cap:
        st = score_tests(current.mg, current.theta, kind)
        st = st[[_identified_without(current.mg, k) for k in st["key"]]] if len(st) else st
        if not len(st):
            break
        best = st.loc[st["X2"].idxmax()]
        log.append(st.drop(columns="key").assign(model=f"{start.step} (partial)", iteration=len(freed) + 1,
                                                 released=best["param"]))
        freed.append((best["param"], float(best["X2"])))
        mg = current.mg.relabel(current.mg.equal, current.mg.free | {best["key"]})
        current = fit_step(mg, f"{start.step} (partial)", start.step, estimator, start.freed + freed)
        if holds(compare(current, ref, estimator)):
            break
    return current


def _row(f: StepFit) -> dict:
    return {"model": f.name, **f.row, "freed": "; ".join(lbl for lbl, _ in f.freed),
            "freed_score": "; ".join(f"{x:.4f}" if np.isfinite(x) else "" for _, x in f.freed)}


def analyse(description: str, data: pd.DataFrame, group: str, estimator: str = "ML",
            partial: bool = True, max_free: int | None = None, ordered: list[str] | None = None) -> Invariance:
    """The invariance steps (with partial models where a step fails) and the latent means. estimator
    "auto": WLSMV when every item is in `ordered` (ordinal.py: configural, thresholds, metric,
    scalar), else MLR when Mardia's test rejects multivariate normality of the complete cases, else
    ML. Where WLSMV cannot be used (a category empty in one group, a single-indicator factor), MLR,
    and the table's `note` says why."""
    estimator = estimator.upper()
    if estimator == "AUTO":
        estimator = sem.choose(data, sem.observed_variables(description), "auto", "listwise",
                               ordered=ordered).estimator
    note = ""
    if estimator == "WLSMV":
        from . import ordinal

        try:
            return ordinal.analyse(description, data, group, verdict)
        except (ordinal.EmptyCategory, ordinal.Unsupported) as e:
            note = f"MLR instead of WLSMV: {e.message if hasattr(e, 'message') else e}"
            estimator = "MLR"
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, WLSMV, not {estimator!r}")
    base = MultiGroup(description, data, group, STEPS["configural"])
    fits = {"configural": fit_step(base, "configural", "configural", estimator)}
    rows = [{**_row(fits["configural"]), "compared_with": "",
             "verdict": "baseline: same structure in every group"}]
    ref, log = fits["configural"], []
    for step in ("metric", "scalar"):
        carried = ref.freed if step == "scalar" else []
        free = {k for k, lbl in base.labels.items() if lbl in {c[0] for c in carried}}
        full = fit_step(base.relabel(STEPS[step], free), step, step, estimator, carried)
        fits[step] = full
        cmp = compare(full, ref, estimator)
        rows.append({**_row(full), **cmp})
        chosen = full
        if not holds(cmp) and partial:
            part = _release(full, ref, estimator, max_free, log)
            if part is not full:
                fits[part.name] = part
                pc = compare(part, ref, estimator)
                rows.append({**_row(part), **pc})
                chosen = part
        ref = chosen
    table = pd.DataFrame(rows)
    lead = ["model", "compared_with", "freed", "freed_score"]
    table = table[[c for c in table.columns if c not in lead[1:] + ["verdict"]] + lead[1:] + ["verdict"]]
    scores = (pd.concat(log, ignore_index=True) if log else
              pd.DataFrame(columns=["model", "iteration", "param", "kind", "group", "X2", "df", "pvalue", "released"]))
    if len(scores):
        scores = scores[["model", "iteration", "param", "kind", "group", "X2", "df", "pvalue", "released"]]
    if note:
        table["note"] = note
    return Invariance(table, _latent_means(fits, table, estimator), scores, fits)


def _latent_means(fits: dict, table: pd.DataFrame, estimator: str) -> pd.DataFrame:
    verdicts = table.set_index("model")["verdict"]
    name = "scalar"
    if "does NOT hold" in verdicts["scalar"] and "scalar (partial)" in fits:
        name = "scalar (partial)"
    metric = verdicts.get("metric (partial)", verdicts["metric"])
    comparable = "does NOT hold" not in verdicts[name] and "does NOT hold" not in metric
    return means_table(fits[name], estimator, comparable)


def means_table(f: StepFit, estimator: str, comparable: bool | None = None) -> pd.DataFrame:
    """Latent means of groups 2..G (the first group's are 0) in a fitted scalar model: estimate,
    SE (ML: expected information; MLM/MLR: robust sandwich), z, p and 95% CI."""
    mg, se = f.mg, np.sqrt(np.diag(f.vcov))
    rows = []
    for gi in range(1, len(mg.groups)):
        for l, v in enumerate(mg.latent):
            k = mg.alpha_position(gi, l)
            est, s = float(f.theta[k]), float(se[k])
            z = est / s
            rows.append({"model": f.name, "factor": v, "group": mg.groups[gi].name,
                         "reference": mg.groups[0].name, "est": est, "se": s, "z": z,
                         "pvalue": float(2 * stats.norm.sf(abs(z))), "ci_lower": est - Z975 * s,
                         "ci_upper": est + Z975 * s, "estimator": estimator, "comparable": comparable})
    return pd.DataFrame(rows)


def invariance(description: str, data: pd.DataFrame, group: str, estimator: str = "ML",
               partial: bool = True) -> pd.DataFrame:
    """The invariance table (invariance.csv)."""
    return analyse(description, data, group, estimator, partial).table
