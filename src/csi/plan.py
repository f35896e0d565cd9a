"""Sample-size planning by Monte Carlo.

Population: a fitted model (its estimates.csv, i.e. a district's results) or a model whose
parameters are given with fixed values. For each n, R samples are drawn from the implied
normal distribution, the model is refitted, and we record for every structural path the share
of samples in which it is significant at 5% (power), and the spread of the satisfaction index
across samples (expected 95% CI width = 2 x 1.96 x its SD). Replicate r at size n draws from
SeedSequence([seed, n, r]): results do not depend on the number of workers.
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


def _replicate(args):
    n, r = args
    model, x0, h_inv, L, mu, paths, seed, index_fn = (_STATE[k] for k in (
        "model", "x0", "h_inv", "L", "mu", "paths", "seed", "index"))
    rng = np.random.default_rng(np.random.SeedSequence([seed, n, r]))
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
        reps: int, seed: int, jobs: int = 1, index_fn=None, means=None, progress: bool = True):
    """Power of every structural path and (with index_fn) the index's sampling SD, per n.
    sigma: the population covariance (from population())."""
    model.fix_x(sigma)
    paths = [pi for lhs, op, rhs, k, i, j, pi in layout.rows if op == "~" and pi is not None]
    names = [f"{lhs} ~ {rhs}" for lhs, op, rhs, k, i, j, pi in layout.rows if op == "~" and pi is not None]
    S_info = model.score(x0, sigma)[1]
    mu = np.zeros(model.p) if means is None else np.asarray(means, float)
    _STATE.update(model=model, x0=x0, h_inv=np.linalg.pinv(S_info), L=np.linalg.cholesky(sigma), mu=mu,
                  paths=np.array(paths, int), seed=seed, index=index_fn)
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
