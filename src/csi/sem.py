"""Maximum-likelihood SEM with lavaan's conventions, on top of semopy's model structure.

semopy parses the lavaan-syntax model and builds the LISREL/RAM-type matrices
(Sigma = Lambda C Psi C' Lambda' + Theta, C = (I - B)^-1). Everything semopy lacks or gets wrong
is done here and tested against lavaan 0.6 (tests/fixtures/lavaan): the ML fit itself (Fisher
scoring with analytic derivatives, so a solution is a verified optimum, not an early SLSQP
stop), expected-information standard errors, lavaan's fit measures (chi-square, CFI, TLI, RMSEA
and its CI, SRMR, GFI, log-likelihood, AIC, BIC), std.all, effects (`:=`), admissibility.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

MATRICES = ("B", "L", "P", "T")  # semopy's order: beta, lambda, psi, theta
GRAD_TOL = 1e-6                  # max |dF/dtheta| at a converged optimum


@dataclass
class Fit:
    x: np.ndarray                # free parameter values
    fmin: float                  # F_ML at the optimum (lavaan's fmin is half of it)
    converged: bool
    iterations: int
    grad_norm: float
    information: np.ndarray      # expected information of F (per observation, times 2)


@dataclass
class Result:
    model: "Model"
    n: int
    fit: Fit
    estimates: pd.DataFrame
    measures: dict
    warnings: list[str] = field(default_factory=list)


def strip_model(text: str) -> tuple[str, list[str]]:
    """Model text for semopy, and the `:=` definitions it cannot parse."""
    keep, defined = [], []
    for line in text.splitlines():
        body = line.split("#")[0].strip()
        if ":=" in body:
            defined.append(body)
        else:
            keep.append(line)
    return "\n".join(keep), defined


class Model:
    """A lavaan-syntax model bound to an ordered set of observed variables."""

    def __init__(self, description: str, data: pd.DataFrame):
        import semopy

        text, self.defined = strip_model(description)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = semopy.Model(text)
            m.load(data=data)
        self.semopy = m
        self.observed = list(m.vars["observed"])
        self.inner = list(m.vars["inner"])
        self.latent = [v for v in self.inner if v in m.vars["latent"]]
        mats = [m.mx_beta, m.mx_lambda, m.mx_psi, m.mx_theta]
        self.templates = [mx.copy() for mx in mats]
        # free parameters, in semopy's order: (matrix index, row, col, symmetric) locations
        self.names, self.locations, start = [], [], []
        for name, p in m.parameters.items():
            locs = []
            for loc in p.locations:
                k = next(i for i, mx in enumerate(mats) if mx is loc.matrix)
                locs.append((k, *loc.indices, loc.symmetric))
            if p.active:
                self.names.append(name)
                self.locations.append(locs)
                start.append(p.start)
            else:
                for k, i, j, sym in locs:
                    self.templates[k][i, j] = p.start
                    if sym:
                        self.templates[k][j, i] = p.start
        self.start = np.array(start, dtype=float)
        self.p, self.m = len(self.observed), len(self.inner)
        tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", text)
        self.order = {v: i for i, v in reversed(list(enumerate(tokens)))}
        self._flat = self._flat_positions()

    # --- matrices -----------------------------------------------------------------------------
    def _flat_positions(self):
        """For each matrix: arrays (row, col, param) incl. mirrored symmetric entries."""
        out = []
        for k in range(4):
            rows, cols, idx = [], [], []
            for pi, locs in enumerate(self.locations):
                for kk, i, j, sym in locs:
                    if kk != k:
                        continue
                    rows.append(i), cols.append(j), idx.append(pi)
                    if sym and i != j:
                        rows.append(j), cols.append(i), idx.append(pi)
            out.append((np.array(rows, int), np.array(cols, int), np.array(idx, int)))
        return out

    def matrices(self, x):
        mats = [t.copy() for t in self.templates]
        for mx, (r, c, i) in zip(mats, self._flat):
            if len(i):
                mx[r, c] = x[i]
        return mats

    def implied(self, x):
        """Sigma and the pieces its derivatives need."""
        B, L, P, T = self.matrices(x)
        C = np.linalg.inv(np.eye(self.m) - B)
        A = L @ C                    # observed <- inner (total)
        M = C @ P @ C.T              # covariance of inner variables
        sigma = A @ P @ A.T + T
        return sigma, dict(B=B, L=L, P=P, T=T, C=C, A=A, M=M)

    def dsigma(self, x, parts=None) -> np.ndarray:
        """dSigma/dtheta_k for every free parameter: array (k, p, p)."""
        if parts is None:
            parts = self.implied(x)[1]
        L, P, C, A, M = parts["L"], parts["P"], parts["C"], parts["A"], parts["M"]
        R = M @ L.T                  # inner x observed
        CPA = C @ P @ A.T            # inner x observed
        out = np.zeros((len(x), self.p, self.p))
        for pi, locs in enumerate(self.locations):
            d = out[pi]
            for k, i, j, sym in locs:
                if k == 1:    # Lambda[i, j]
                    d[i, :] += R[j, :]
                    d[:, i] += R[j, :]
                elif k == 0:  # B[i, j]: d(LC) = A[:, i] C[j, :]
                    t = np.outer(A[:, i], CPA[j, :])
                    d += t + t.T
                elif k == 2:  # Psi[i, j]
                    t = np.outer(A[:, i], A[:, j])
                    d += t + t.T if (sym and i != j) else t
                else:         # Theta[i, j]
                    d[i, j] += 1.0
                    if sym and i != j:
                        d[j, i] += 1.0
        return out

    # --- ML ------------------------------------------------------------------------------------
    def objective(self, x, S, logdet_s):
        sigma = self.implied(x)[0]
        try:
            c = linalg.cho_factor(sigma)
        except linalg.LinAlgError:
            return np.inf
        logdet = 2 * np.log(np.diag(c[0])).sum()
        return logdet + np.trace(linalg.cho_solve(c, S)) - logdet_s - self.p

    def score(self, x, S):
        """Gradient of F_ML and its expected Hessian (Fisher information x 2)."""
        sigma, parts = self.implied(x)
        V = np.linalg.inv(sigma)
        W = V @ (sigma - S) @ V
        D = self.dsigma(x, parts)
        g = np.einsum("ij,kji->k", W, D)
        VD = np.einsum("ij,kjl->kil", V, D)
        H = np.einsum("kij,lji->kl", VD, VD)
        return g, H

    def fit(self, S, start=None, max_iter=500) -> Fit:
        """Fisher scoring with step halving; falls back to semopy's SLSQP start if needed."""
        logdet_s = np.linalg.slogdet(S)[1]
        tries = [self.start if start is None else np.asarray(start, float)]
        if start is None:
            tries.append(None)  # semopy's own optimizer as a second opinion on the start
        best = None
        for x0 in tries:
            if x0 is None:
                x0 = self._semopy_start(S)
                if x0 is None:
                    continue
            res = self._scoring(x0, S, logdet_s, max_iter)
            if best is None or (res.converged and not best.converged) or \
                    (res.converged == best.converged and res.fmin < best.fmin - 1e-10):
                best = res
            if best.converged:
                break
        return best

    def _scoring(self, x, S, logdet_s, max_iter) -> Fit:
        f = self.objective(x, S, logdet_s)
        it = 0
        g = H = None
        for it in range(1, max_iter + 1):
            if not np.isfinite(f):
                break
            g, H = self.score(x, S)
            if np.max(np.abs(g)) < GRAD_TOL * 1e-2:
                break
            try:  # far from the optimum H can be near-singular: then a least-squares step
                with warnings.catch_warnings():
                    warnings.simplefilter("error", linalg.LinAlgWarning)
                    step = linalg.solve(H, g, assume_a="sym")
            except (linalg.LinAlgError, linalg.LinAlgWarning, ValueError):
                step = np.linalg.lstsq(H, g, rcond=None)[0]
            t = 1.0
            while t > 1e-8:
                xn = x - t * step
                fn = self.objective(xn, S, logdet_s)
                if np.isfinite(fn) and fn <= f + 1e-14:
                    break
                t /= 2
            else:
                break
            converged_step = abs(f - fn) < 1e-15 and np.max(np.abs(t * step)) < 1e-12
            x, f = xn, fn
            if converged_step:
                g, H = self.score(x, S)
                break
        if g is None or not np.isfinite(f):
            return Fit(x, f, False, it, np.inf, np.full((len(x), len(x)), np.nan))
        g, H = self.score(x, S)
        gnorm = float(np.max(np.abs(g)))
        return Fit(x, float(f), bool(gnorm < GRAD_TOL), it, gnorm, H)

    def _semopy_start(self, S):
        m = self.semopy
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m.load_cov(S)
                m.param_vals = self.start.copy()
                m.update_matrices(m.param_vals)
                fun, grad = m.get_objective("MLW")
                r = optimize.minimize(fun, m.param_vals, jac=grad, method="SLSQP",
                                      bounds=m.get_bounds(), options={"maxiter": 1000})
            return np.asarray(r.x, float)
        except Exception:  # semopy failing is not fatal: scoring from its start already ran
            return None


def sample_cov(X: np.ndarray) -> np.ndarray:
    """Covariance with divisor N, as lavaan's ML (likelihood = "normal")."""
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / len(X)


# --- the parameter table --------------------------------------------------------------------

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
        rows.append((inner[j], "=~", obs[i], 1, i, j, free.get((1, i, j)), mats[1][i, j]))
    for (k, i, j), pi in sorted(free.items(), key=lambda t: t[1]):
        if k == 0:
            rows.append((inner[i], "~", inner[j], 0, i, j, pi, mats[0][i, j]))
    for k, names in ((2, inner), (3, obs)):
        seen = set()
        for (kk, i, j), pi in sorted(free.items(), key=lambda t: t[1]):
            if kk != k or (min(i, j), max(i, j)) in seen:
                continue
            seen.add((min(i, j), max(i, j)))
            a, b = sorted((i, j), key=lambda v: model.order.get(names[v], 10**6))
            rows.append((names[a], "~~", names[b], k, a, b, pi, mats[k][a, b]))
    return rows


def _mask(free, k, shape):
    m = np.zeros(shape, bool)
    for (kk, i, j) in free:
        if kk == k:
            m[i, j] = True
    return m


def effects(model: Model, x: np.ndarray) -> list[tuple[str, str, str, str, float]]:
    """Direct, indirect and total effects of each exogenous latent on each endogenous variable."""
    B = model.matrices(x)[0]
    C = np.linalg.inv(np.eye(model.m) - B)
    total = C - np.eye(model.m)
    exo = [i for i, v in enumerate(model.inner) if not B[i].any() and v in model.latent]
    endo = [i for i in range(model.m) if B[i].any()]
    out = []
    for j in exo:
        for i in endo:
            if abs(total[i, j]) < 1e-15 and not _reachable(B, j, i):
                continue
            x_, y_ = model.inner[j], model.inner[i]
            out.append((f"ind_{x_}_{y_}", f"indirect effect of {x_} on {y_}", x_, y_, total[i, j] - B[i, j]))
            out.append((f"tot_{x_}_{y_}", f"total effect of {x_} on {y_}", x_, y_, total[i, j]))
    return out


def _reachable(B, src, dst) -> bool:
    reach, frontier = set(), [src]
    while frontier:
        k = frontier.pop()
        for i in np.nonzero(B[:, k])[0]:
            if i not in reach:
                reach.add(i)
                frontier.append(i)
    return dst in reach


def _effect_values(model, x):
    return np.array([e[-1] for e in effects(model, x)])


def _jacobian(f, x, h=1e-6):
    f0 = f(x)
    J = np.zeros((len(f0), len(x)))
    for k in range(len(x)):
        e = np.zeros_like(x)
        e[k] = h * max(1.0, abs(x[k]))
        J[:, k] = (f(x + e) - f(x - e)) / (2 * e[k])
    return J


def parameter_table(model: Model, fit: Fit, n: int) -> pd.DataFrame:
    x = fit.x
    sigma, parts = model.implied(x)
    vcov = np.linalg.pinv(fit.information / 2) / n
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
    sd_inner = np.sqrt(np.clip(np.diag(parts["M"]), 0, None))
    sd_obs = np.sqrt(np.clip(np.diag(sigma), 0, None))
    mats = model.matrices(x)
    recs = []
    for lhs, op, rhs, k, i, j, pi, est in _rows(model, x):
        se = se_free[pi] if pi is not None else 0.0
        if op == "=~":
            std = est * sd_inner[j] / sd_obs[i]
        elif op == "~":
            std = est * sd_inner[j] / sd_inner[i]
        else:
            var = np.diag(parts["M"] if k == 2 else sigma)
            if i == j:
                std = est / var[i]
            else:
                res = np.diag(mats[k])
                std = est / np.sqrt(res[i] * res[j]) if res[i] > 0 and res[j] > 0 else np.nan
        recs.append((lhs, op, rhs, est, se, std))
    eff = effects(model, x)
    if eff:
        J = _jacobian(lambda v: _effect_values(model, v), x)
        se_eff = np.sqrt(np.clip(np.einsum("ik,kl,il->i", J, vcov, J), 0, None))
        idx = {v: i for i, v in enumerate(model.inner)}
        for (name, what, src, dst, est), se in zip(eff, se_eff):
            std = est * sd_inner[idx[src]] / sd_inner[idx[dst]]
            recs.append((name, ":=", what, est, se, std))
    t = pd.DataFrame(recs, columns=["lhs", "op", "rhs", "est", "se", "std_all"])
    rank = {"=~": 0, "~": 1, "~~": 2, ":=": 3}
    key = t.apply(lambda r: (rank[r.op], model.order.get(r.lhs, 10**6), r.op != "~~" or r.lhs != r.rhs,
                             model.order.get(r.rhs, 10**6)), axis=1)
    t = t.iloc[sorted(range(len(t)), key=lambda i: key.iloc[i])].reset_index(drop=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(t["se"] > 0, t["est"] / t["se"], np.nan)
    t.insert(5, "z", z)
    t.insert(6, "pvalue", 2 * stats.norm.sf(np.abs(z)))
    q = stats.norm.ppf(0.975)
    t["ci_lower"] = t["est"] - q * t["se"]
    t["ci_upper"] = t["est"] + q * t["se"]
    return t


# --- fit measures ---------------------------------------------------------------------------

def fit_measures(model: Model, fit: Fit, S: np.ndarray, n: int) -> dict:
    """lavaan's ML fit measures (likelihood = "normal": S and chi-square use N)."""
    p = model.p
    sigma = model.implied(fit.x)[0]
    npar = len(fit.x)
    df = p * (p + 1) // 2 - npar
    chisq = n * fit.fmin
    # baseline (independence) model: diagonal Sigma = diag(S)
    chisq_b = n * (np.log(np.diag(S)).sum() - np.linalg.slogdet(S)[1])
    df_b = p * (p + 1) // 2 - p
    d, d_b = max(chisq - df, 0.0), max(chisq_b - df_b, 0.0)
    cfi = 1.0 - d / max(d, d_b) if max(d, d_b) > 0 else 1.0
    tli = ((chisq_b / df_b) - (chisq / df)) / ((chisq_b / df_b) - 1.0) if df > 0 else 1.0
    rmsea = np.sqrt(max(chisq / df - 1.0, 0.0) / n) if df > 0 else 0.0
    lo, hi = _rmsea_ci(chisq, df, n)
    sd = np.sqrt(np.diag(S))
    resid = (S - sigma) / np.outer(sd, sd)
    srmr = float(np.sqrt(np.mean(resid[np.tril_indices(p)] ** 2)))
    V = np.linalg.inv(sigma)
    VS = V @ S
    gfi = 1.0 - np.trace((VS - np.eye(p)) @ (VS - np.eye(p))) / np.trace(VS @ VS)
    logl = -0.5 * n * (p * np.log(2 * np.pi) + np.linalg.slogdet(sigma)[1] + np.trace(VS))
    return {
        "npar": npar, "chisq": float(chisq), "df": int(df),
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan"),
        "cfi": float(cfi), "tli": float(tli), "rmsea": float(rmsea),
        "rmsea_ci_lower": lo, "rmsea_ci_upper": hi, "srmr": srmr, "gfi": float(gfi),
        "aic": float(-2 * logl + 2 * npar), "bic": float(-2 * logl + npar * np.log(n)),
        "loglik": float(logl), "n": int(n),
        "baseline_chisq": float(chisq_b), "baseline_df": int(df_b),
    }


def _rmsea_ci(chisq, df, n, level=0.90):
    """RMSEA confidence interval from the non-central chi-square (as lavaan)."""
    if df <= 0:
        return float("nan"), float("nan")
    a = (1 - level) / 2

    def ncp_for(prob):
        f = lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob if lam > 0 else stats.chi2.cdf(chisq, df) - prob
        if f(0.0) < 0:          # even a central chi-square is too far: bound at 0
            return 0.0
        hi = max(chisq, 1.0)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 0.0, hi, xtol=1e-10)

    lam_lo, lam_hi = ncp_for(1 - a), ncp_for(a)
    return float(np.sqrt(lam_lo / (n * df))), float(np.sqrt(lam_hi / (n * df)))


# --- admissibility ----------------------------------------------------------------------------

def admissibility(model: Model, fit: Fit, table: pd.DataFrame) -> list[str]:
    """Plain-language reasons why a solution must not be reported as it is (empty if fine)."""
    out = []
    if not fit.converged:
        out.append(
            f"Not converged: the fit stopped after {fit.iterations} iterations with largest "
            f"gradient {fit.grad_norm:.2g}, so this is not a maximum of the likelihood. Check that "
            "every factor has a marker or fixed variance, that variables are on similar scales, "
            "or simplify the model.")
    var = table[(table["op"] == "~~") & (table["lhs"] == table["rhs"])]
    for r in var[var["est"] < 0].itertuples():
        out.append(
            f"Negative variance (Heywood case) for {r.lhs}: {r.est:.3g}. Usually a too-small "
            "sample, an indicator nearly identical to its factor, or a misspecified factor; "
            "inspect that indicator (outliers, near-duplicate items), drop or merge it, or "
            "respecify the model. Do not interpret this solution.")
    big = table[table["op"].isin(["=~", "~", "~~"]) & (table["std_all"].abs() > 1 + 1e-9)]
    for r in big.itertuples():
        if r.op == "~~" and r.lhs == r.rhs:
            continue
        out.append(
            f"Standardized estimate beyond ±1 for {r.lhs} {r.op} {r.rhs}: {r.std_all:.3f}. A "
            "standardized loading or correlation cannot exceed 1; this signals a Heywood case or "
            "two constructs that are not distinct. Check discriminant validity (HTMT) and the items.")
    M = model.implied(fit.x)[1]["M"]
    lat = [model.inner.index(v) for v in model.latent]
    if lat and np.linalg.eigvalsh(M[np.ix_(lat, lat)]).min() < -1e-8:
        out.append(
            "The latent covariance matrix is not positive definite: some constructs correlate "
            "at ±1 or beyond. They are empirically the same construct; consider merging them or "
            "revising their items.")
    T = model.matrices(fit.x)[3]
    if np.linalg.eigvalsh(T).min() < -1e-8 and not (np.diag(T) < 0).any():
        out.append(
            "The residual covariance matrix of the indicators is not positive definite: some "
            "residual correlations are implausible. Review the residual covariances in the model.")
    if np.all(np.isfinite(fit.information)):
        ev = np.linalg.eigvalsh(fit.information)
        if ev.min() <= 1e-10 * max(ev.max(), 1e-300):
            out.append(
                "The information matrix is singular: the model is not identified with these data "
                "(empirical under-identification), so some estimates and standard errors are "
                "arbitrary. Typical causes: a factor with two indicators and no correlation with "
                "others, or a path that duplicates another; fix a parameter or simplify.")
    return out


# --- top level --------------------------------------------------------------------------------

def complete_cases(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return data[columns].apply(pd.to_numeric, errors="raise").dropna()


def estimate(description: str, data: pd.DataFrame) -> Result:
    """Fit a lavaan-syntax model by ML to the complete cases of `data` (listwise, as lavaan)."""
    model = Model(description, data)
    X = complete_cases(data, model.observed)
    S = sample_cov(X.to_numpy(float))
    fit = model.fit(S)
    table = parameter_table(model, fit, len(X))
    measures = fit_measures(model, fit, S, len(X))
    warns = admissibility(model, fit, table)
    dropped = len(data) - len(X)
    notes = [f"{dropped} row(s) with missing values in model variables were left out (listwise)."] \
        if dropped else []
    measures.update(converged=fit.converged, admissible=not warns, warnings=warns + notes,
                    iterations=fit.iterations, max_gradient=fit.grad_norm)
    return Result(model=model, n=len(X), fit=fit, estimates=table, measures=measures, warnings=warns)


FIT_KEYS = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
            "rmsea_ci_upper", "srmr", "gfi", "aic", "bic", "loglik", "n", "converged",
            "admissible", "warnings"]
EST_COLUMNS = ["lhs", "op", "rhs", "est", "se", "z", "pvalue", "std_all", "ci_lower", "ci_upper"]


def read_data(path) -> pd.DataFrame:
    from pathlib import Path

    from .errors import CSIError

    path = Path(path)
    if not path.exists():
        raise CSIError("data file not found", file=path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise CSIError(f"cannot read {path.suffix!r} data", file=path, hint="give a .csv or .parquet file.")


def check_variables(description: str, data: pd.DataFrame, model_file, data_file) -> None:
    """Every observed variable of the model must be a numeric column of the data."""
    import semopy

    from .errors import CSIError

    try:
        observed = semopy.Model(strip_model(description)[0]).vars["observed"]
    except Exception as e:  # semopy's parser raises bare exceptions on syntax errors
        raise CSIError(f"the model could not be parsed ({type(e).__name__}: {e})", file=model_file,
                       hint="check the lavaan syntax (=~ loadings, ~ regressions, ~~ covariances).") from None
    missing = [v for v in observed if v not in data.columns]
    if missing:
        raise CSIError(f"the model uses variable(s) not in the data: {', '.join(missing)}",
                       file=model_file,
                       hint=f"columns of {data_file} are: {', '.join(map(str, data.columns[:40]))}; "
                            "rename the variable in the model or add the column.")
    bad = [v for v in observed if not pd.api.types.is_numeric_dtype(data[v])]
    if bad:
        raise CSIError(f"model variable(s) are not numeric: {', '.join(bad)}", file=data_file,
                       column=bad[0], hint="SEM needs numeric codes; recode the column first.")


def write_result(result: Result, out_dir, extra_tables: dict | None = None) -> None:
    """DIR/estimates.csv and DIR/fit.json, all-or-nothing."""
    import json
    from pathlib import Path

    from .io import atomic_outputs

    out = Path(out_dir)
    fit = {k: result.measures[k] for k in FIT_KEYS}
    fit["warnings"] = result.measures["warnings"]
    with atomic_outputs(out / "estimates.csv", out / "fit.json") as (est, fj):
        result.estimates[EST_COLUMNS].to_csv(est, index=False, float_format="%.10g", lineterminator="\n")
        Path(fj).write_text(json.dumps(_jsonable(fit), indent=2, ensure_ascii=False) + "\n", "utf-8")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(f"{float(obj):.10g}")
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
