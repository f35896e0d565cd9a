"""CSI indices (0-100) and the importance-performance map.

Index of construct c (as the ACSI: Fornell et al. 1996) is its estimated latent score rescaled
to 0-100 by the lowest and highest possible answers:

    I_c = 100 * sum_i w_i (xbar_i - min_i) / (max_i - min_i),   w_i = b_i r_i / sum_j b_j r_j

b_i are the construct's factor-score (regression) weights on its own indicators, from the
fitted model (Sigma^-1 Lambda M, the CB-SEM counterpart of PLS outer weights), and r_i the item
ranges from the codebook. With all items at their minimum I = 0, at their maximum I = 100.

IPMA (Ringle & Sarstedt 2016): the drivers are the codebook's `kind: driver` constructs with a
path to the target (direct or mediated, e.g. image -> expectations -> quality -> satisfaction);
performance = driver index; importance = unstandardized total effect of the driver on the target
in index units, T(X -> SAT) * a_SAT / a_X, where a_c = 100 sum b_i lambda_i / sum b_i r_i is the
change of I_c per unit of the latent variable. The potential gain of a driver (its importance
times its distance to 100) is capped at the target's own distance to 100: an index cannot pass it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import sem
from .codebook import Codebook
from .psychometrics import indicators


@dataclass
class Spec:
    constructs: list[str]
    items: dict[str, list[int]]        # construct -> positions in model.observed
    lo: np.ndarray                     # per observed variable: scale minimum
    rng: np.ndarray                    # per observed variable: scale range
    drivers: list[str]
    target: str


def spec(model: sem.Model, description: str, cb: Codebook, target: str | None) -> Spec:
    items = {c: [model.observed.index(i) for i in its] for c, its in indicators(description).items()}
    if target is None:
        from .errors import CSIError

        outcomes = [c for c in items if cb.constructs.get(c, {}).get("kind") == "outcome"]
        raise CSIError("say which construct is the satisfaction target of the indices and the IPMA",
                       hint=f"give --target (config: `satisfaction:`), e.g. one of the outcomes: {', '.join(outcomes)}.")
    if target not in items:
        from .errors import CSIError

        raise CSIError(f"satisfaction construct {target!r} is not a factor of the model "
                       f"(factors: {', '.join(items)})", hint="set `satisfaction:` in config/config.yaml "
                       "(or --target) to the model's satisfaction factor.")
    lo = np.array([cb.scale_of(v).min if v in cb.by_code and cb.by_code[v].scale else np.nan
                   for v in model.observed], float)
    hi = np.array([cb.scale_of(v).max if v in cb.by_code and cb.by_code[v].scale else np.nan
                   for v in model.observed], float)
    paths = model.templates[0] != 0
    r, c, _ = model._flat[0]
    paths[r, c] = True
    t = model.inner.index(target)
    reach = [v for v in items if v != target and sem.reachable(paths, model.inner.index(v), t)]
    kinds = {k: v.get("kind") for k, v in cb.constructs.items()}
    if any(kinds.get(v) == "driver" for v in items):
        drivers = [v for v in reach if kinds.get(v) == "driver"]      # the codebook says which
    else:
        drivers = [v for v in reach if not paths[model.inner.index(v)].any()]   # exogenous ones
    return Spec(list(items), items, lo, hi - lo, drivers, target)


def values(model: sem.Model, x: np.ndarray, means: np.ndarray, s: Spec) -> np.ndarray:
    """[index per construct..., importance per driver...] for parameters x and item means."""
    B, L, P, T = model.matrices(x)
    sigma, parts = model.implied(x)
    M = parts["M"]
    # factor-score regression weights: rows of M Lambda' Sigma^-1 (Lambda here maps to observed)
    W = M @ L.T @ np.linalg.inv(sigma)
    out, slope = [], {}
    for c in s.constructs:
        j, idx = model.inner.index(c), s.items[c]
        b = W[j, idx]
        denom = (b * s.rng[idx]).sum()
        out.append(100 * (b * (means[idx] - s.lo[idx])).sum() / denom)
        slope[c] = 100 * (b * L[idx, j]).sum() / denom
    total = np.linalg.inv(np.eye(model.m) - B) - np.eye(model.m)
    t = model.inner.index(s.target)
    for d in s.drivers:
        out.append(total[t, model.inner.index(d)] * slope[s.target] / slope[d])
    return np.array(out)


def weights(model: sem.Model, x: np.ndarray, s: Spec) -> pd.DataFrame:
    L = model.matrices(x)[1]
    sigma, parts = model.implied(x)
    W = parts["M"] @ L.T @ np.linalg.inv(sigma)
    rows = []
    for c in s.constructs:
        j, idx = model.inner.index(c), s.items[c]
        b = W[j, idx]
        w = b * s.rng[idx] / (b * s.rng[idx]).sum()
        for k, i in enumerate(idx):
            rows.append({"construct": c, "item": model.observed[i], "score_weight": b[k], "weight": w[k],
                         "scale_min": s.lo[i], "scale_max": s.lo[i] + s.rng[i]})
    return pd.DataFrame(rows)


def tables(result: sem.Result, s: Spec, X: np.ndarray, draws: np.ndarray | None):
    """index.csv and ipma.csv frames (bootstrap percentile CIs when draws are given)."""
    est = values(result.model, result.fit.x, X.mean(axis=0), s)
    k = len(s.constructs)
    lo = hi = np.full(len(est), np.nan)
    if draws is not None:
        ok = ~np.isnan(draws).any(axis=1)
        lo, hi = np.quantile(draws[ok], [0.025, 0.975], axis=0)
    idx = pd.DataFrame({"construct": s.constructs, "index": est[:k], "ci_lower": lo[:k], "ci_upper": hi[:k]})
    imp = pd.DataFrame({"driver": s.drivers, "importance": est[k:], "importance_ci_lower": lo[k:],
                        "importance_ci_upper": hi[k:]})
    perf = idx.set_index("construct")
    imp["performance"] = [perf.loc[d, "index"] for d in s.drivers]
    imp["performance_ci_lower"] = [perf.loc[d, "ci_lower"] for d in s.drivers]
    imp["performance_ci_upper"] = [perf.loc[d, "ci_upper"] for d in s.drivers]
    mid_i, mid_p = imp["importance"].mean(), imp["performance"].mean()
    imp["quadrant"] = np.select(
        [(imp["importance"] >= mid_i) & (imp["performance"] < mid_p),
         (imp["importance"] >= mid_i) & (imp["performance"] >= mid_p),
         (imp["importance"] < mid_i) & (imp["performance"] < mid_p)],
        ["high importance, low performance", "high importance, high performance",
         "low importance, low performance"], "low importance, high performance")
    # gain in the target index if this driver's index reached 100 (other drivers unchanged),
    # at most what the target index can still gain
    gain = imp["importance"] * (100 - imp["performance"])
    room = 100 - float(idx.set_index("construct").loc[s.target, "index"])
    imp["potential"] = gain.clip(upper=room)
    imp["potential_capped"] = gain > room
    imp = imp.sort_values("potential", ascending=False, kind="stable").reset_index(drop=True)
    imp.insert(0, "priority", range(1, len(imp) + 1))
    return idx, imp


def withheld(s: Spec):
    """index.csv, ipma.csv, index_weights.csv and priorities.csv of a solution that is not admissible:
    the constructs and drivers, no numbers (nothing is computed from an improper solution)."""
    nan = np.nan
    idx = pd.DataFrame({"construct": s.constructs, "index": nan, "ci_lower": nan, "ci_upper": nan})
    ipma = pd.DataFrame({"priority": pd.array([pd.NA] * len(s.drivers), dtype="Int64"), "driver": s.drivers,
                         **{c: nan for c in ("importance", "importance_ci_lower", "importance_ci_upper",
                                            "performance", "performance_ci_lower", "performance_ci_upper")},
                         "quadrant": "withheld: solution not admissible", "potential": nan,
                         "potential_capped": pd.array([pd.NA] * len(s.drivers), dtype="boolean")})
    weights_ = pd.DataFrame(columns=["construct", "item", "score_weight", "weight", "scale_min", "scale_max"])
    prio = pd.DataFrame(columns=["priority", "driver", "item", "label_en", "label_zh", "weight", "top_box_rate",
                                 "item_index"])
    return idx, ipma, weights_, prio


def priorities(ipma: pd.DataFrame, weights_: pd.DataFrame, X: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """The indicators behind each driver, weakest first: what to improve within a priority."""
    rows = []
    for r in ipma.itertuples():
        w = weights_[weights_["construct"] == r.driver]
        for item in w.itertuples():
            x = X[item.item]
            scale = cb.scale_of(item.item)
            rows.append({"priority": r.priority, "driver": r.driver, "item": item.item,
                         "label_en": cb.label(item.item, "en"), "label_zh": cb.label(item.item, "zh"),
                         "weight": item.weight, "top_box_rate": float(x.isin(scale.top_box).mean()),
                         "item_index": 100 * (x.mean() - item.scale_min) / (item.scale_max - item.scale_min)})
    out = pd.DataFrame(rows)
    return out.sort_values(["priority", "item_index"], kind="stable").reset_index(drop=True)
