"""Nonparametric (case-resampling) bootstrap of an ML SEM, with percentile CIs.

Replicate b draws its rows from its own stream, SeedSequence([seed, b]), so the draws do not
depend on how replicates are split over workers: same seed -> identical results for any
number of jobs. A named `stream` (the pipeline: the district) makes it SeedSequence([seed, key,
b]), key from the name, so districts sharing the study's seed do not share their draws. Each refit starts from the full-sample estimate (warm start) and reuses the
model structure; a refit is a few BFGS steps. With complete data (listwise; ML, MLM or MLR,
whose estimates are ML's) a refit is ML on the resampled covariance; with FIML it is a FIML fit
to the resampled rows (their missingness patterns recomputed). With WLSMV (ordered items) a refit
re-estimates the thresholds, polychoric correlations and DWLS weights of the resampled rows (as
lavaan refits each draw) and then the DWLS estimates (Gauss-Newton from the full-sample ones).
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from . import sem
from .progress import Progress

_STATE: dict = {}
CHECK_EVERY = 50          # draws between checks of the failure share
MAX_FAILED_SHARE = 0.5    # stop when more than this share of the draws so far did not converge


@dataclass
class Draws:
    est: np.ndarray          # (B, rows) estimates; NaN where the refit did not converge
    std: np.ndarray          # (B, rows) std_all
    converged: np.ndarray    # (B,) bool
    admissible: np.ndarray   # (B,) bool
    seed: int
    extra: np.ndarray | None = None   # (B, k) values of the `extra` statistic
    requested: int = 0                # B asked for (more than drawn when stopped early)
    stream: str | None = None         # named seed stream (see the module's text)

    @property
    def stopped_early(self) -> bool:
        return len(self.converged) < self.requested


def _replicate(b: int):
    model, X, x0, h_inv, layout, seed = (_STATE[k] for k in ("model", "X", "x0", "h_inv", "layout", "seed"))
    rng = np.random.default_rng(np.random.SeedSequence([*seed, b]))
    idx = rng.integers(0, len(X), len(X))
    if _STATE.get("ordinal") is not None:
        from .sem.ordinal import refit

        dm, values, R = _STATE["ordinal"]
        x, ok, th = refit(dm, X[idx], x0[dm.keep], values, start=R)
    elif _STATE.get("fiml"):
        x, ok = _refit_fiml(model, X[idx], x0, h_inv)
    else:
        S = sem.sample_cov(X[idx])
        x, ok, _ = model.refit(x0, S, h_inv)
        if not ok:  # a second, slower route before giving up: Fisher scoring from the same start
            fit = model._scoring(x0, S, np.linalg.slogdet(S)[1], max_iter=300)
            x, ok = fit.x, fit.converged
    extra = _STATE.get("extra")
    if not ok:
        n = len(layout.rows) + len(layout.effects) + _STATE["nth"]
        return b, np.full(n, np.nan), np.full(n, np.nan), False, False, None
    est, std = sem.point_values(model, x, layout)
    if _STATE.get("ordinal") is not None:     # thresholds after the layout's rows (std: var(y*) = 1)
        est, std = np.concatenate([est, th]), np.concatenate([std, th])
    return b, est, std, True, _proper(model, x), (None if extra is None else extra(model, x, X[idx]))


def _refit_fiml(model: sem.Model, X: np.ndarray, x0, h_inv):
    from .sem.fiml import FIML
    from .sem.sample import Patterns

    if np.isnan(X).all(axis=0).any():      # a variable nobody in the draw answered
        return x0, False
    F = FIML(model, Patterns(X))
    x, ok, _ = F.refit(x0, h_inv)
    if not ok:  # as with ML: trust-region scoring from the same start
        fit = F.fit(start=x0, max_iter=300)
        x, ok = fit.x, fit.converged
    return x, ok


def _proper(model: sem.Model, x) -> bool:
    B, L, P, T = model.matrices(x)
    if (np.diag(P) < 0).any() or (np.diag(T) < 0).any():
        return False
    C = np.linalg.inv(np.eye(model.m) - B)
    lat = [model.inner.index(v) for v in model.latent]
    return not lat or np.linalg.eigvalsh((C @ P @ C.T)[np.ix_(lat, lat)]).min() > -1e-8


def stream_key(name: str) -> int:
    """A stable 32-bit key of a stream's name (the same on every machine and Python)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big")


def run(model: sem.Model, X: np.ndarray, fit: sem.Fit, layout: sem.Layout, B: int, seed: int,
        jobs: int = 1, progress: bool = True, extra=None, fiml: bool = False, stream: str | None = None,
        ordinal=None) -> Draws:
    """B refits; `extra(model, x, X_resampled)` adds statistics computed on each replicate.
    fiml: X holds the rows FIML used (with NaN) and fit.x the FIML estimates (intercepts last).
    ordinal: (DeltaModel, category values per item, polychoric matrix) of a WLSMV fit (X: its rows, NaN where
    pairwise); the draws then hold the thresholds after the layout's rows.

    Stops early when most draws fail: checked in draw order after every CHECK_EVERY draws, so the
    verdict is the same for any number of workers.
    """
    _STATE.update(model=model, X=np.asarray(X, float), x0=fit.x,
                  h_inv=None if ordinal is not None else np.linalg.pinv(fit.information),
                  layout=layout, seed=[seed] if stream is None else [seed, stream_key(stream)], extra=extra,
                  fiml=fiml, ordinal=ordinal, nth=0 if ordinal is None else sum(len(v) - 1 for v in ordinal[1]))
    n = len(layout.rows) + len(layout.effects) + _STATE["nth"]
    est, std = np.full((B, n), np.nan), np.full((B, n), np.nan)
    conv, adm = np.zeros(B, bool), np.zeros(B, bool)
    ext: list = [None] * B
    bar = Progress(f"bootstrap of {progress}" if isinstance(progress, str) else "bootstrap", B, "draws",
                   bool(progress))
    done = 0
    stopped = None
    # One BLAS thread everywhere: a multi-threaded BLAS may sum in a different order depending
    # on the thread count, which would make results depend on the number of workers.
    limits = threadpool_limits(limits=1)
    try:
        pool = mp.get_context("fork").Pool(jobs) if jobs > 1 else None   # fork: workers inherit the model
        results = pool.imap(_replicate, range(B), chunksize=16) if pool else map(_replicate, range(B))
        try:
            for b, e, s, c, a, x in results:     # in draw order
                est[b], std[b], conv[b], adm[b], ext[b] = e, s, c, a, x
                done += 1
                bar.update(1, failed=int(not c))
                if done % CHECK_EVERY == 0 and done < B and (~conv[:done]).mean() > MAX_FAILED_SHARE:
                    stopped = done
                    break
        finally:
            if pool:
                pool.terminate()
                pool.join()
    finally:
        limits.restore_original_limits()
        _STATE.clear()
    if stopped:
        bar.say(f": stopped, {int((~conv[:stopped]).sum())} of {stopped} draws did not converge")
        est, std, conv, adm, ext = est[:stopped], std[:stopped], conv[:stopped], adm[:stopped], ext[:stopped]
    extra_arr = None
    if extra is not None:
        k = next((len(v) for v in ext if v is not None), 0)
        extra_arr = np.array([np.full(k, np.nan) if v is None else v for v in ext])
    return Draws(est, std, conv, adm, seed, extra_arr, requested=B, stream=stream)


def percentile_table(draws: Draws, level: float = 0.95) -> pd.DataFrame:
    """Bootstrap SE and percentile CI of est and std_all, from the converged draws (withheld, NaN,
    when the bootstrap stopped early or fewer than two draws converged)."""
    ok = draws.converged
    a = (1 - level) / 2
    if draws.stopped_early or ok.sum() < 2:
        return pd.DataFrame(np.nan, index=range(draws.est.shape[1]),
                            columns=["boot_se", "ci_lower", "ci_upper", "std_ci_lower", "std_ci_upper"])
    e, s = draws.est[ok], draws.std[ok]
    return pd.DataFrame({
        "boot_se": e.std(axis=0, ddof=1),
        "ci_lower": np.quantile(e, a, axis=0), "ci_upper": np.quantile(e, 1 - a, axis=0),
        "std_ci_lower": np.quantile(s, a, axis=0), "std_ci_upper": np.quantile(s, 1 - a, axis=0),
    })


def summary(draws: Draws, B: int) -> dict:
    out = {"B": B, "seed": draws.seed, **({"stream": draws.stream} if draws.stream else {}), "drawn": len(draws.converged), "converged": int(draws.converged.sum()),
           "not_converged": int((~draws.converged).sum()),
           "inadmissible": int((draws.converged & ~draws.admissible).sum()),
           "ci": "percentile, 95%, converged draws (inadmissible draws kept, as lavaan)"}
    if draws.stopped_early:
        out["stopped_early"] = True
        out["verdict"] = (f"The bootstrap was stopped after {len(draws.converged)} of {B} draws: "
                          f"{out['not_converged']} of them did not converge. The model is unstable under "
                          "resampling (a nearly unidentified path or factor, or too few respondents); its "
                          "confidence intervals are withheld.")
    return out
