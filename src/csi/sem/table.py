"""The parameter table (lavaan's names and row order), std.all, and indirect / total effects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .ml import Fit
from .model import Model

MEAN, LATENT_MEAN = 4, 5       # "matrix" codes of intercept rows (after B, Lambda, Psi, Theta)


def _rows(model: Model, x: np.ndarray):
    """(lhs, op, rhs, matrix, i, j, param index or None, value) for every reported parameter."""
    mats = model.matrices(x)
    free = {}
    for pi, locs in enumerate(model.locations):
        for k, i, j, sym in locs:
            free[(k, i, j)] = pi
            if sym:
                free[(k, j, i)] = pi
    obs, inner = model.observed, model.inner
    rows = []
    # loadings: free ones and fixed markers (lavaan lists both)
    for i, j in zip(*np.nonzero((model.templates[1] != 0) | _mask(free, 1, model.templates[1].shape))):
        if inner[j] == obs[i] and (1, i, j) not in free:
            continue  # an observed variable standing in for itself in the structural part
        if inner[j] in model.latent:
            rows.append((inner[j], "=~", obs[i], 1, i, j, free.get((1, i, j)), mats[1][i, j]))
        else:  # semopy keeps a regression of an observed outcome on an observed predictor in Lambda
            rows.append((obs[i], "~", inner[j], 1, i, j, free.get((1, i, j)), mats[1][i, j]))
    for (k, i, j), pi in sorted(free.items(), key=lambda t: t[1]):
        if k == 0:
            rows.append((inner[i], "~", inner[j], 0, i, j, pi, mats[0][i, j]))
    for a, i in enumerate(model.exo):          # fixed.x moments, listed as lavaan does (se 0)
        for j in model.exo[a:]:
            rows.append((inner[i], "~~", inner[j], 2, i, j, None, mats[2][i, j]))
    for k, names in ((2, inner), (3, obs)):
        seen = set()
        for (kk, i, j), pi in sorted(free.items(), key=lambda t: t[1]):
            if kk != k or (min(i, j), max(i, j)) in seen:
                continue
            seen.add((min(i, j), max(i, j)))
            a, b = sorted((i, j), key=lambda v: model.order.get(names[v], 10**6))
            rows.append((names[a], "~~", names[b], k, a, b, pi, mats[k][a, b]))
        for kk, i, j in getattr(model, "fixed_cov", []):   # fixed by the model: listed as lavaan does
            if kk == k and (min(i, j), max(i, j)) not in seen and not (k == 2 and {i, j} <= set(model.exo)):
                seen.add((min(i, j), max(i, j)))
                a, b = sorted((i, j), key=lambda v: model.order.get(names[v], 10**6))
                rows.append((names[a], "~~", names[b], k, a, b, None, mats[k][a, b]))
    if len(x) > len(model.start):   # a mean structure (FIML): intercepts, latent means fixed at 0
        nu = intercepts(model, x)
        rows += [(v, "~1", "", MEAN, i, i, None, nu[i]) for i, v in enumerate(obs)]
        rows += [(v, "~1", "", LATENT_MEAN, j, j, None, 0.0) for j, v in enumerate(inner) if v in model.latent]
    return rows


def intercepts(model: Model, x: np.ndarray, C: np.ndarray | None = None) -> np.ndarray:
    """lavaan's intercepts from the model-implied means mu = x[q:] (FIML's parameters): mu =
    nu + Lambda C alpha, alpha nonzero only for observed variables of the structural part (their
    intercept is alpha, their nu 0; latent means are 0). Returns, per observed variable, nu or alpha."""
    q = len(model.start)
    mu = np.asarray(x[q:], float)
    inner = [i for i, v in enumerate(model.inner) if v in model.observed]
    if not inner:
        return mu.copy()
    mats = model.matrices(x)
    if C is None:
        C = np.linalg.inv(np.eye(model.m) - mats[0])
    obs = [model.observed.index(model.inner[i]) for i in inner]
    A = mats[1] @ C
    alpha = np.zeros(model.m)
    alpha[inner] = np.linalg.solve(A[np.ix_(obs, inner)], mu[obs])
    out = mu - A @ alpha
    out[obs] = alpha[inner]
    return out


def _mask(free, k, shape):
    m = np.zeros(shape, bool)
    for (kk, i, j) in free:
        if kk == k:
            m[i, j] = True
    return m


def effects(model: Model, x: np.ndarray) -> list[tuple[str, str, str, str, float]]:
    """Indirect and total effects of each construct on everything it reaches (mediated drivers too)."""
    B = model.matrices(x)[0]
    C = np.linalg.inv(np.eye(model.m) - B)
    total = C - np.eye(model.m)
    paths = (B != 0) | _free_mask(model, 0)
    sources = [j for j, v in enumerate(model.inner) if v in model.latent and paths[:, j].any()]
    endo = [i for i in range(model.m) if paths[i].any()]
    out = []
    for j in sources:
        for i in endo:
            if not reachable(paths, j, i):
                continue
            x_, y_ = model.inner[j], model.inner[i]
            if reachable(paths, j, i, min_length=2):
                out.append((f"ind_{x_}_{y_}", f"indirect effect of {x_} on {y_}", x_, y_, total[i, j] - B[i, j]))
            out.append((f"tot_{x_}_{y_}", f"total effect of {x_} on {y_}", x_, y_, total[i, j]))
    return out


def _free_mask(model: Model, k: int) -> np.ndarray:
    mask = np.zeros(model.templates[k].shape, bool)
    r, c, _ = model._flat[k]
    mask[r, c] = True
    return mask


def reachable(paths: np.ndarray, src: int, dst: int, min_length: int = 1) -> bool:
    """Is there a directed path src -> dst of at least min_length arrows (paths[to, from])?"""
    frontier = {src}
    for length in range(1, len(paths) + 1):
        frontier = {int(i) for k in frontier for i in np.nonzero(paths[:, k])[0]}
        if not frontier:
            return False
        if length >= min_length and dst in frontier:
            return True
    return False


def _jacobian(f, x, h=1e-6):
    f0 = f(x)
    J = np.zeros((len(f0), len(x)))
    for k in range(len(x)):
        e = np.zeros_like(x)
        e[k] = h * max(1.0, abs(x[k]))
        J[:, k] = (f(x + e) - f(x - e)) / (2 * e[k])
    return J


@dataclass
class Layout:
    """Which rows a parameter table has, so draws can be computed without pandas."""

    rows: list            # (lhs, op, rhs, matrix, i, j, free index or None)
    effects: list         # (name, description, source, target)

    @classmethod
    def of(cls, model: Model, x: np.ndarray) -> "Layout":
        return cls([r[:7] for r in _rows(model, x)], [e[:4] for e in effects(model, x)])


def point_values(model: Model, x: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """(est, std_all) for every row of the layout: parameters, then effects."""
    mats = model.matrices(x)
    B, P = mats[0], mats[2]
    C = np.linalg.inv(np.eye(model.m) - B)
    A = mats[1] @ C
    M = C @ P @ C.T
    sigma = A @ P @ A.T + mats[3]
    var_inner, var_obs = np.diag(M), np.diag(sigma)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd_inner, sd_obs = np.sqrt(var_inner), np.sqrt(var_obs)
        est, std = [], []
        nu = intercepts(model, x, C) if len(x) > len(model.start) else None
        for lhs, op, rhs, k, i, j, pi in layout.rows:
            if k >= MEAN:    # intercepts: std.all divides by the observed variable's SD
                e = nu[i] if k == MEAN else 0.0
                est.append(e)
                std.append(e / sd_obs[i] if k == MEAN else 0.0)
                continue
            e = mats[k][i, j]
            if op == "=~" or k == 1:   # loadings, and regressions of observed outcomes (Lambda)
                s = e * sd_inner[j] / sd_obs[i]
            elif op == "~":
                s = e * sd_inner[j] / sd_inner[i]
            elif i == j:
                s = e / (var_inner if k == 2 else var_obs)[i]
            else:
                res = np.diag(mats[k])
                s = e / np.sqrt(res[i] * res[j]) if res[i] > 0 and res[j] > 0 else np.nan
            est.append(e)
            std.append(s)
        total = C - np.eye(model.m)
        idx = {v: n for n, v in enumerate(model.inner)}
        for name, _, src, dst in layout.effects:
            a, b = idx[dst], idx[src]
            e = total[a, b] - (B[a, b] if name.startswith("ind_") else 0.0)
            est.append(e)
            std.append(e * sd_inner[b] / sd_inner[a])
    return np.array(est), np.array(std)


def parameter_table(model: Model, fit: Fit, n: int, vcov: np.ndarray | None = None) -> pd.DataFrame:
    """est, se, z, p, std_all and CIs; se from vcov (the estimator's covariance matrix of the free
    parameters; default: the inverse expected information of ML)."""
    x = fit.x
    layout = Layout.of(model, x)
    est, std = point_values(model, x, layout)
    if vcov is None:
        vcov = np.linalg.pinv(fit.information / 2) / n
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
    se = np.array([se_free[pi] if pi is not None else 0.0 for *_, pi in layout.rows] + [0.0] * len(layout.effects))
    # delta method, as lavaan does for defined parameters: effects, and intercepts (FIML's
    # parameters are the implied means; lavaan's intercepts are functions of them)
    derived = [r for r, row in enumerate(layout.rows) if row[3] == MEAN] + \
        list(range(len(layout.rows), len(layout.rows) + len(layout.effects)))
    if derived:
        J = _jacobian(lambda v: point_values(model, v, layout)[0][derived], x)
        se[derived] = np.sqrt(np.clip(np.einsum("ik,kl,il->i", J, vcov, J), 0, None))
    names = [r[:3] for r in layout.rows] + [(e[0], ":=", e[1]) for e in layout.effects]
    t = pd.DataFrame(names, columns=["lhs", "op", "rhs"])
    t["est"], t["se"], t["std_all"] = est, np.array(se, float), std
    rank = {"=~": 0, "~": 1, "~~": 2, "~1": 3, ":=": 4}
    key = [(rank[o] + (0.5 if o == "~1" and l in model.latent else 0),      # latent means last, as lavaan
            model.order.get(l, 10**6), o != "~~" or l != r, model.order.get(r, 10**6), i)
           for i, (l, o, r) in enumerate(names)]
    order = [k[-1] for k in sorted(key)]
    t = t.iloc[order].reset_index(drop=True)
    t.attrs["layout_order"] = order   # row i of t is row order[i] of the layout
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(t["se"] > 0, t["est"] / t["se"], np.nan)
    t.insert(5, "z", z)
    t.insert(6, "pvalue", 2 * stats.norm.sf(np.abs(z)))
    q = stats.norm.ppf(0.975)
    t["ci_lower"] = t["est"] - q * t["se"]
    t["ci_upper"] = t["est"] + q * t["se"]
    return t


# --- fit measures ---------------------------------------------------------------------------

