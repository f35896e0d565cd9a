"""Sample-size planning by Monte Carlo.

Population: a fitted model (its estimates.csv, i.e. a district's results) or a model whose
parameters are given with fixed values. For each n, R samples are drawn from the implied
normal distribution, the model is refitted, and we record for every structural path the share
of samples in which it is significant at 5% (power), and the spread of the satisfaction index
across samples (expected 95% CI width = 2 x 1.96 x its SD). Replicate r at size n draws from
SeedSequence([seed, n, r]): results do not depend on the number of workers.

From an ordinal (WLSMV) solution, whose estimates.csv has threshold rows, the samples are ordered
answers: latent responses drawn from the implied y* correlation matrix, cut at the fitted
thresholds into the answer values, and each sample is refitted by WLSMV (its robust SEs give the
power).
"""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from . import sem
from .progress import Progress

_STATE: dict = {}


def population(description: str, estimates: pd.DataFrame):
    """Model object and its parameter vector set to the values in an estimates table."""
    import semopy

    observed = semopy.Model(sem.strip_model(description)[0]).vars["observed"]
    noise = np.random.default_rng(0).standard_normal((200, len(observed)))
    model = sem.Model(description, pd.DataFrame(noise, columns=observed))  # data: start values only
    layout = sem.Layout.of(model, model.start)
    table = estimates[estimates["op"].isin(["=~", "~", "~~"])]
    known = {(r.lhs, r.op, r.rhs): r.est for r in table.itertuples()}
    known.update({(r.rhs, r.op, r.lhs): r.est for r in table.itertuples() if r.op == "~~"})
    x = model.start.copy()
    for lhs, op, rhs, k, i, j, pi in layout.rows:
        if pi is None and not (op == "~~" and k == 2 and i in model.exo and j in model.exo):
            continue                       # fixed values other than the covariates' moments
        if (lhs, op, rhs) not in known:
            raise ValueError(f"no population value for {lhs} {op} {rhs} in the estimates")
        if pi is None:                     # covariates (fixed.x): their population moments
            model.templates[2][i, j] = model.templates[2][j, i] = known[(lhs, op, rhs)]
        else:
            x[pi] = known[(lhs, op, rhs)]
    sigma = model.implied(x)[0]            # fixed now: refits later overwrite the covariates' block
    return model, x, layout, sigma


def thresholds(estimates: pd.DataFrame, observed: list[str]) -> list[np.ndarray] | None:
    """The fitted thresholds per observed variable (estimates.csv's op "|" rows, t1, t2, ...), or
    None when the estimates are not of an ordinal model."""
    th = estimates[estimates["op"] == "|"]
    if th.empty:
        return None
    out = []
    for v in observed:
        t = th[th["lhs"] == v]
        if t.empty:
            raise ValueError(f"no thresholds for {v} in the estimates of an ordinal model")
        out.append(t.sort_values("rhs", key=lambda s: s.str[1:].astype(int))["est"].to_numpy(float))
    return out


def _ordinal_replicate(n, rng, L, x0):
    from .errors import CSIError
    from .sem.ordinal import wlsmv

    model, th, values, keep = (_STATE[k] for k in ("model", "thresholds", "values", "keep"))
    Y = rng.standard_normal((n, L.shape[0])) @ L.T
    X = np.column_stack([values[j][np.searchsorted(th[j], Y[:, j])] for j in range(len(th))]).astype(float)
    try:
        w = wlsmv(model, X, start=x0[keep])
    except (CSIError, np.linalg.LinAlgError):
        return X, None, None
    if not w.fit.converged:
        return X, None, None
    return X, w.fit.x, np.sqrt(np.clip(np.diag(w.vcov), 0, None))


def _replicate(args):
    n, r = args
    model, x0, h_inv, L, mu, paths, seed, index_fn = (_STATE[k] for k in (
        "model", "x0", "h_inv", "L", "mu", "paths", "seed", "index"))
    rng = np.random.default_rng(np.random.SeedSequence([seed, n, r]))
    if _STATE.get("thresholds") is not None:
        X, x, se = _ordinal_replicate(n, rng, L, x0)
        if x is None:
            return n, r, False, np.full(len(paths), np.nan), np.nan
        z = np.abs(x[paths] / se[paths])
        return n, r, True, z, index_fn(model, x, X, ordinal=True) if index_fn else np.nan
    X = mu + rng.standard_normal((n, L.shape[0])) @ L.T
    S = sem.sample_cov(X)
    x, ok, _ = model.refit(x0, S, h_inv)
    if not ok:
        return n, r, False, np.full(len(paths), np.nan), np.nan
    H = model.score(x, S)[1]
    se = np.sqrt(np.clip(np.diag(np.linalg.pinv(H / 2)) / n, 0, None))
    z = np.abs(x[paths] / se[paths])
    idx = index_fn(model, x, X) if index_fn else np.nan
    return n, r, True, z, idx


def run(model: sem.Model, x0: np.ndarray, layout: sem.Layout, sigma: np.ndarray, ns: list[int],
        reps: int, seed: int, jobs: int = 1, index_fn=None, means=None, progress: bool = True,
        thresholds=None, values=None):
    """Power of every structural path and (with index_fn) the index's sampling SD, per n.
    sigma: the population covariance (from population()); with `thresholds` (per observed
    variable) the population is ordinal (see the module's text): sigma is the y* correlation
    matrix, `values` the answer values per variable (default 1, 2, ...), and index_fn is called
    with ordinal=True."""
    model.fix_x(sigma)
    paths = [pi for lhs, op, rhs, k, i, j, pi in layout.rows if op == "~" and pi is not None]
    names = [f"{lhs} ~ {rhs}" for lhs, op, rhs, k, i, j, pi in layout.rows if op == "~" and pi is not None]
    S_info = model.score(x0, sigma)[1]
    mu = np.zeros(model.p) if means is None else np.asarray(means, float)
    _STATE.update(model=model, x0=x0, h_inv=np.linalg.pinv(S_info), L=np.linalg.cholesky(sigma), mu=mu,
                  paths=np.array(paths, int), seed=seed, index=index_fn, thresholds=thresholds)
    if thresholds is not None:
        from .sem.ordinal import DeltaModel

        _STATE.update(keep=DeltaModel(model).keep,
                      values=[np.asarray(v, float) for v in values] if values is not None else
                      [np.arange(1.0, len(t) + 2) for t in thresholds])
    tasks = [(n, r) for n in ns for r in range(reps)]
    results = {}
    bar = Progress("planning", len(tasks), "fits", progress)
    limits = threadpool_limits(limits=1)
    try:
        if jobs <= 1:
            for out in map(_replicate, tasks):
                results[out[:2]] = out[2:]
                bar.update(1)
        else:
            with mp.get_context("fork").Pool(jobs) as pool:
                for out in pool.imap_unordered(_replicate, tasks, chunksize=8):
                    results[out[:2]] = out[2:]
                    bar.update(1)
    finally:
        limits.restore_original_limits()
        _STATE.clear()
    power_rows, width_rows = [], []
    for n in ns:
        ok = [results[(n, r)] for r in range(reps) if results[(n, r)][0]]
        z = np.array([o[1] for o in ok])
        for p_i, name in enumerate(names):
            power_rows.append({"n": n, "path": name, "true_value": float(x0[paths[p_i]]),
                               "power": float((z[:, p_i] > 1.959964).mean()) if len(z) else np.nan,
                               "converged": len(ok), "reps": reps})
        if index_fn:
            idx = np.array([o[2] for o in ok])
            width_rows.append({"n": n, "index_sd": float(idx.std(ddof=1)),
                               "expected_ci_width": float(2 * 1.959964 * idx.std(ddof=1)),
                               "converged": len(ok), "reps": reps})
    return pd.DataFrame(power_rows), pd.DataFrame(width_rows)
