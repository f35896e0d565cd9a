"""Measurement invariance with ordered items: multigroup WLSMV (delta parameterization) with Wu &
Estabrook's (2016) identification, as lavaan fits semTools::measEq.syntax(..., ordered = ,
parameterization = "delta", ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016") by estimator =
"WLSMV" (verified against it: scripts/lavaan_ordinal_invariance.R).

Per group g, y* = nu + Lambda eta + e with eta ~ (alpha, Psi) and scaling factors Delta (1 / SD of
y*). The sample statistics are each group's thresholds and polychoric correlations (y* standard
normal in each group); the model implies
    tau*_jk = Delta_j (tau_jk - nu_j - Lambda_j alpha),   rho_ij = Delta_i Delta_j (Lambda Psi Lambda')_ij.
Steps (the first group is the reference):
  configural  thresholds, loadings and factor covariances free per group; nu = 0, Delta = 1,
              alpha = 0, factor variances 1
  thresholds  thresholds equal; nu and Delta free in groups 2..G (Delta stays 1 for a binary item)
  metric      loadings equal too; factor variances free in groups 2..G
  scalar      intercepts nu = 0 in every group; latent means free in groups 2..G (Delta free for
              binary items too)
DWLS: minimise sum_g (n_g - 1) F_g, F_g = (s_g - sigma_g)' W_g (s_g - sigma_g), W_g = diag(Gamma_g)^-1
over thresholds and correlations; chi-square sum_g (n_g - 1) F_g. With f_g = n_g / N and the
expected information E = sum_g f_g D_g' W_g D_g: robust vcov E^-1 (sum_g f_g D_g' W_g Gamma_g W_g D_g)
E^-1 / N; the scaled-shifted chi-square from U = V - V D E^-1 D' V on the stacked groups
(V = diag(f_g W_g), Gamma_g / f_g); RMSEA with N - G and sqrt(G) as lavaan. Nested steps are
compared as lavTestLRT does for WLSMV: Satorra (2000) scaled-shifted difference, its A matrix by
the "delta" method (the orthogonal complement of D1^+ D0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ..errors import CSIError
from ..sem.measures import _cfi, _rmsea, _tli
from ..sem.ordinal import ordinal_sample
from ..sem.ordinal.sample import _pairs

STEPS = ("configural", "thresholds", "metric", "scalar")
Z975 = float(stats.norm.ppf(0.975))


class EmptyCategory(CSIError):
    """An item's category has no answers in one group: thresholds cannot be compared."""


def merge_empty(data: pd.DataFrame, items: list[str], group: str) -> tuple[pd.DataFrame, list[str]]:
    """Answers of a category some group never gave, merged into the nearest category every group
    gave (downwards; the lowest categories upwards), in every group: thresholds are comparable only
    over shared categories. Returns the recoded copy and one sentence per merge."""
    out, notes = data.copy(), []
    for item in items:
        seen = {g: set(v.dropna().unique()) for g, v in data.groupby(group, sort=False)[item]}
        every = sorted(set.intersection(*seen.values()))
        allv = sorted(set.union(*seen.values()))
        if len(every) == len(allv):
            continue
        if len(every) < 2:
            raise EmptyCategory(f"item {item!r} has fewer than two answers that every group gave", column=item,
                                hint="leave the item out of the invariance model, or test with estimator MLR.")
        mapping = {v: max([e for e in every if e <= v], default=every[0]) for v in allv if v not in every}
        out[item] = out[item].replace(mapping)
        for v, to in mapping.items():
            absent = [str(g) for g, vals in seen.items() if v not in vals]
            notes.append(f"{item}: answers {v:g} counted as {to:g} (no answer {v:g} in group "
                         f"{', '.join(map(repr, absent))})")
    return out, notes


MERGED = "categories merged for the thresholds to be comparable"
_MERGE = re.compile(r"([^:;]+): answers (\S+) counted as (\S+) \(no answer \S+ in group (.+?)\)(?:; |$)")


def merges(note: str) -> list[tuple[str, str, str, str]]:
    """(item, answer, counted as, groups without it) of each merge an invariance.csv note states."""
    if not isinstance(note, str) or not note.startswith(MERGED + ": "):
        return []
    return [(i.strip(), v, t, g) for i, v, t, g in _MERGE.findall(note[len(MERGED) + 2:])]


@dataclass
class OrdinalStep:
    name: str
    step: str
    theta: np.ndarray
    row: dict
    vcov: np.ndarray
    D: list                  # per group: d sigma_g / d theta
    E: np.ndarray            # expected information (f_g weighted)
    specs: list              # per group: the layout (fixed values, global index)


class OrdinalGroups:
    """The groups' sample statistics and the model's layout; `fit(step)` fits one step."""

    def __init__(self, factors: dict[str, list[str]], data: pd.DataFrame, group: str, missing: str = "pairwise"):
        self.latent = list(factors)
        self.items = list(dict.fromkeys(v for f in self.latent for v in factors[f]))
        p, m = len(self.items), len(self.latent)
        self.p, self.m = p, m
        self.lam = [(self.items.index(v), l) for l, f in enumerate(self.latent) for v in factors[f]]
        self.psi = [(a, b) for a in range(m) for b in range(a + 1)]
        self.groups, self.samples, self.n = [], [], []
        names = pd.unique(data[group].dropna())             # lavaan's order: first appearance
        data, self.merged = merge_empty(data[data[group].isin(names)], self.items, group)
        for name in names:
            X = data.loc[data[group] == name, self.items].to_numpy(float)
            if missing == "listwise":
                X = X[~np.isnan(X).any(axis=1)]
            try:
                s = ordinal_sample(X, self.items)
            except CSIError as e:
                raise EmptyCategory(f"group {name!r}: {e}", column=group, value=name) from e
            self.groups.append(str(name)), self.samples.append(s), self.n.append(len(X))
        ref = self.samples[0]
        for g, s in zip(self.groups[1:], self.samples[1:]):
            for item, v0, v in zip(self.items, ref.values, s.values):
                if len(v0) != len(v) or not np.array_equal(v0, v):
                    lost = sorted(set(v0.tolist()) ^ set(v.tolist()))
                    where = g if set(lost) <= set(v0.tolist()) else self.groups[0]
                    raise EmptyCategory(
                        f"item {item!r} has no answer {', '.join(f'{x:g}' for x in lost)} in group {where!r}: "
                        "its thresholds cannot be compared between groups", column=item, value=lost[0],
                        hint="merge the empty category with its neighbour in the codebook, or test invariance "
                             "with estimator MLR (the items as continuous).")
        self.K = [len(v) for v in ref.values]
        self.th_item = np.repeat(np.arange(p), [k - 1 for k in self.K])
        self.nth = len(self.th_item)
        self.rows, self.cols = _pairs(p)
        self.N = sum(self.n)
        self.f = np.array(self.n, float) / self.N
        self.s = [np.concatenate([np.concatenate(x.th), x.cor_vector()]) for x in self.samples]
        self.W = [1.0 / np.diag(x.gamma) for x in self.samples]
        # local layout per group: [lambda | psi (lower, with diagonal) | alpha | nu | delta | tau]
        sizes = [len(self.lam), len(self.psi), m, p, p, self.nth]
        self.off = np.concatenate([[0], np.cumsum(sizes)])
        self.L = int(self.off[-1])

    # --- parameterization ---------------------------------------------------------------------
    def layout(self, step: str):
        """Per group: fixed local values (NaN where free) and the global index of each free entry."""
        eq_load = step in ("metric", "scalar")
        keys, specs = {}, []
        for g in range(len(self.groups)):
            fixed = np.full(self.L, np.nan)
            key = [None] * self.L
            o = self.off
            for k in range(len(self.lam)):
                key[o[0] + k] = ("lam", k) if eq_load else ("lam", k, g)
            for k, (a, b) in enumerate(self.psi):
                if a != b:
                    key[o[1] + k] = ("psi", k, g)
                elif eq_load and g > 0:
                    key[o[1] + k] = ("psi", k, g)
                else:
                    fixed[o[1] + k] = 1.0
            for l in range(self.m):
                if step == "scalar" and g > 0:
                    key[o[2] + l] = ("alpha", l, g)
                else:
                    fixed[o[2] + l] = 0.0
            for j in range(self.p):
                if step in ("thresholds", "metric") and g > 0:
                    key[o[3] + j] = ("nu", j, g)
                else:
                    fixed[o[3] + j] = 0.0
                if g > 0 and ((step in ("thresholds", "metric") and self.K[j] > 2) or step == "scalar"):
                    key[o[4] + j] = ("delta", j, g)
                else:
                    fixed[o[4] + j] = 1.0
            for t in range(self.nth):
                key[o[5] + t] = ("tau", t) if step != "configural" else ("tau", t, g)
            idx = np.full(self.L, -1)
            for i, kk in enumerate(key):
                if kk is not None:
                    idx[i] = keys.setdefault(kk, len(keys))
            specs.append((fixed, idx))
        return specs, list(keys)

    def local(self, theta, spec):
        fixed, idx = spec
        x = fixed.astype(theta.dtype)
        free = idx >= 0
        x[free] = theta[idx[free]]
        return x

    def implied(self, x):
        """(thresholds, correlations) implied by one group's local vector x (real or complex)."""
        o, p, m = self.off, self.p, self.m
        lam = np.zeros((p, m), x.dtype)
        r, c = zip(*self.lam)
        lam[list(r), list(c)] = x[o[0]:o[1]]
        psi = np.zeros((m, m), x.dtype)
        a, b = zip(*self.psi)
        psi[list(a), list(b)] = x[o[1]:o[2]]
        psi[list(b), list(a)] = x[o[1]:o[2]]
        alpha, nu, dl, tau = x[o[2]:o[3]], x[o[3]:o[4]], x[o[4]:o[5]], x[o[5]:o[6]]
        C = lam @ psi @ lam.T
        mu = nu + lam @ alpha
        t = dl[self.th_item] * (tau - mu[self.th_item])
        rho = dl[self.rows] * dl[self.cols] * C[self.rows, self.cols]
        return np.concatenate([t, rho]), C, psi

    def jacobian(self, theta, spec):
        """d sigma_g / d theta by complex-step differentiation (exact to rounding: sigma is a polynomial)."""
        fixed, idx = spec
        x = self.local(theta, spec).astype(complex)
        nstat = self.nth + len(self.rows)
        J = np.zeros((nstat, len(theta)))
        h = 1e-30
        for i in np.flatnonzero(idx >= 0):
            x[i] += 1j * h
            J[:, idx[i]] += self.implied(x)[0].imag / h
            x[i] -= 1j * h
        return J

    def start(self, specs, nkeys):
        theta, done = np.zeros(nkeys), np.zeros(nkeys, bool)
        o = self.off
        for g, (fixed, idx) in enumerate(specs):
            s = self.samples[g]
            init = np.zeros(self.L)
            R = s.R
            for k, (i, l) in enumerate(self.lam):
                peers = [j for j, ll in self.lam if ll == l and j != i]
                rr = np.mean(np.abs(R[i, peers])) if peers else 0.5
                init[o[0] + k] = np.sqrt(np.clip(rr, 0.1, 0.9))
            for k, (a, b) in enumerate(self.psi):
                init[o[1] + k] = 1.0 if a == b else 0.3
            init[o[4]:o[5]] = 1.0
            init[o[5]:o[6]] = np.concatenate(s.th)
            free = (idx >= 0) & ~done[np.maximum(idx, 0)]    # a shared parameter starts from its first group
            theta[idx[free]] = init[free]
            done[idx[free]] = True
        return theta

    # --- estimation ---------------------------------------------------------------------------
    def objective(self, theta, specs):
        total, parts = 0.0, []
        for g, spec in enumerate(specs):
            with np.errstate(all="ignore"):
                e = self.s[g] - self.implied(self.local(theta, spec))[0]
            Fg = float(np.sum(self.W[g] * e * e))
            parts.append(Fg)
            total += (self.n[g] - 1) * Fg
        return (total if np.isfinite(total) else np.inf), parts

    def fit(self, step: str, name: str | None = None, max_iter: int = 300) -> OrdinalStep:
        specs, keys = self.layout(step)
        q = len(keys)
        theta = self.start(specs, q)
        f, _ = self.objective(theta, specs)
        converged, grad, D, at = False, np.full(q, np.inf), None, None
        for _ in range(max_iter):
            D, at = [self.jacobian(theta, sp) for sp in specs], theta
            H, grad = np.zeros((q, q)), np.zeros(q)
            for g, sp in enumerate(specs):
                e = self.s[g] - self.implied(self.local(theta, sp))[0]
                c = self.n[g] - 1
                H += c * D[g].T @ (self.W[g][:, None] * D[g])
                grad += c * D[g].T @ (self.W[g] * e)
            if np.max(np.abs(grad)) / self.N < 1e-10:
                converged = True
                break
            try:
                step_ = linalg.solve(H, grad, assume_a="sym")
            except (linalg.LinAlgError, ValueError):
                step_ = np.linalg.lstsq(H, grad, rcond=None)[0]
            t = 1.0
            while t > 1e-10:
                fn, _ = self.objective(theta + t * step_, specs)
                if fn <= f:
                    break
                t /= 2
            if t <= 1e-10:
                break
            theta, f_old, f = theta + t * step_, f, fn
            if abs(f_old - f) < 1e-14 * max(1.0, f) and np.max(np.abs(t * step_)) < 1e-10:
                converged = np.max(np.abs(grad)) / self.N < 1e-6
                break
        if at is not theta:                # the last step moved: the Jacobian at the estimates
            D = [self.jacobian(theta, sp) for sp in specs]
        return self._inference(step, name or step, theta, specs, D, converged, grad)

    # --- inference ----------------------------------------------------------------------------
    def _inference(self, step, name, theta, specs, D, converged, grad) -> OrdinalStep:
        G = len(self.groups)
        _, F = self.objective(theta, specs)
        E = sum(self.f[g] * D[g].T @ (self.W[g][:, None] * D[g]) for g in range(G))
        B = sum(self.f[g] * (self.W[g][:, None] * D[g]).T @ self.samples[g].gamma @ (self.W[g][:, None] * D[g])
                for g in range(G))
        q = len(theta)
        nstat = len(self.s[0])
        df = G * nstat - q
        chisq = float(sum((self.n[g] - 1) * F[g] for g in range(G)))
        try:
            Ei = np.linalg.inv(E)
            vcov = Ei @ B @ Ei / (self.N - G)     # lavaan: N - G, as N - 1 in one group
        except np.linalg.LinAlgError:
            Ei, vcov = None, np.full((q, q), np.nan)
        tr, tr2 = self._traces(D, Ei) if Ei is not None else (np.nan, np.nan)
        scaled = _scaled_shifted(chisq, df, tr, tr2)
        # baseline: thresholds free per group, correlations zero
        nth, n1 = self.nth, self.N - G
        chisq_b = float(sum((self.n[g] - 1) * np.sum(self.W[g][nth:] * self.s[g][nth:] ** 2) for g in range(G)))
        df_b = G * len(self.rows)
        UG = [self.W[g][nth:, None] * self.samples[g].gamma[nth:, nth:] for g in range(G)]
        scaled_b = _scaled_shifted(chisq_b, df_b, sum(np.trace(u) for u in UG), sum(np.sum(u * u.T) for u in UG))
        srmr = self._srmr(theta, specs)
        admissible, problems = self._admissible(theta, specs)
        row = {"npar": q, "chisq": chisq, "df": int(df), "pvalue": float("nan"),
               "cfi": _cfi(chisq, df, chisq_b, df_b), "tli": _tli(chisq, df, chisq_b, df_b),
               "rmsea": _rmsea(chisq, df, n1) * np.sqrt(G), "srmr": srmr,
               "converged": bool(converged), "max_gradient": float(np.max(np.abs(grad))) / self.N if q else 0.0,
               "admissible": admissible, "problems": "; ".join(problems), "groups": G, "n": int(self.N),
               "chisq_scaled": scaled[0], "chisq_scaling_factor": scaled[1], "chisq_shift": scaled[2],
               "pvalue_scaled": float(stats.chi2.sf(scaled[0], df)) if df > 0 else float("nan"),
               "cfi_scaled": _cfi(scaled[0], df, scaled_b[0], df_b),
               "tli_scaled": _tli(scaled[0], df, scaled_b[0], df_b),
               "rmsea_scaled": _rmsea(scaled[0], df, n1) * np.sqrt(G),
               "baseline_chisq": chisq_b, "baseline_chisq_scaled": scaled_b[0]}
        return OrdinalStep(name, step, theta, row, vcov, D, E, specs)

    def _traces(self, D, Ei):
        """tr(U Gamma) and tr((U Gamma)^2) over the stacked groups."""
        G = len(self.groups)
        V = np.concatenate([self.f[g] * self.W[g] for g in range(G)])
        Dall = np.vstack(D)
        Gam = linalg.block_diag(*[self.samples[g].gamma / self.f[g] for g in range(G)])
        VD = V[:, None] * Dall
        U = np.diag(V) - VD @ Ei @ VD.T
        UG = U @ Gam
        return float(np.trace(UG)), float(np.sum(UG * UG.T))

    def _srmr(self, theta, specs) -> float:
        """lavaan's SRMR for categorical data: per group the root mean square of the correlation
        residuals over p(p+1)/2 (thresholds left out), averaged with weights n_g / N."""
        out = 0.0
        for g, sp in enumerate(specs):
            res = self.s[g][self.nth:] - self.implied(self.local(theta, sp))[0][self.nth:]
            out += self.f[g] * np.sqrt(np.sum(res ** 2) / (self.p * (self.p + 1) / 2))
        return float(out)

    def _admissible(self, theta, specs):
        problems = []
        for g, sp in enumerate(specs):
            x = self.local(theta, sp)
            _, C, psi = self.implied(x)
            dl = x[self.off[4]:self.off[5]]
            resid = 1.0 / dl ** 2 - np.diag(C)
            for j in np.flatnonzero(resid < 0):
                problems.append(f"negative residual variance of {self.items[j]} in group {self.groups[g]}")
            if np.min(np.linalg.eigvalsh(psi)) <= 0:
                problems.append(f"factor covariance matrix not positive definite in group {self.groups[g]}")
        return not problems, problems

    # --- comparisons ----------------------------------------------------------------------------
    def difference(self, m1: OrdinalStep, m0: OrdinalStep) -> tuple[float, int, float]:
        """lavTestLRT(m1, m0) for WLSMV: Satorra (2000) scaled-shifted difference of the nested m0
        (more constrained) against m1. Returns (statistic, df, p)."""
        m = m0.row["df"] - m1.row["df"]
        t_diff = m0.row["chisq"] - m1.row["chisq"]
        if m <= 0:
            return float("nan"), m, float("nan")
        D1, D0 = np.vstack(m1.D), np.vstack(m0.D)
        H = np.linalg.pinv(D1) @ D0
        A = linalg.null_space(H.T).T                      # rows: the orthogonal complement of col(H)
        P = np.linalg.inv(m1.E)
        APA = A @ P @ A.T
        M = P @ A.T @ np.linalg.pinv(APA) @ A @ P
        G = len(self.groups)
        K = [(self.W[g][:, None] * m1.D[g]).T @ self.samples[g].gamma @ (self.W[g][:, None] * m1.D[g])
             for g in range(G)]
        tr = float(sum(self.f[g] * np.sum(M * K[g]) for g in range(G)))
        MK = M @ sum(self.f[g] * K[g] for g in range(G))
        tr2 = float(np.sum(MK * MK.T))
        a = np.sqrt(m / tr2)
        stat = float(t_diff * a + (m - a * tr))
        return stat, int(m), float(stats.chi2.sf(stat, m))

    def parameters(self, f: OrdinalStep) -> pd.DataFrame:
        """The estimates of a step per group (lavaan's op: =~, ~~, ~1, ~*~, |) with robust SEs."""
        se = np.sqrt(np.clip(np.diag(f.vcov), 0, None))
        rows = []
        o = self.off
        for g, (fixed, idx) in enumerate(f.specs):
            x = self.local(f.theta, (fixed, idx))

            def add(i, lhs, op, rhs):
                free = idx[i] >= 0
                rows.append({"group": self.groups[g], "lhs": lhs, "op": op, "rhs": rhs, "est": float(x[i]),
                             "se": float(se[idx[i]]) if free else 0.0, "free": bool(free)})
            for k, (i, l) in enumerate(self.lam):
                add(o[0] + k, self.latent[l], "=~", self.items[i])
            for k, (a, b) in enumerate(self.psi):
                add(o[1] + k, self.latent[b], "~~", self.latent[a])
            for l in range(self.m):
                add(o[2] + l, self.latent[l], "~1", "")
            _, C, _ = self.implied(x)
            for j in range(self.p):     # derived in the delta parameterization: no SE
                rows.append({"group": self.groups[g], "lhs": self.items[j], "op": "~~", "rhs": self.items[j],
                             "est": float(1 / x[o[4] + j] ** 2 - C[j, j]), "se": 0.0, "free": False})
            for j in range(self.p):
                add(o[3] + j, self.items[j], "~1", "")
            for j in range(self.p):
                add(o[4] + j, self.items[j], "~*~", self.items[j])
            k = 0
            for j in range(self.p):
                for t in range(self.K[j] - 1):
                    add(o[5] + k, self.items[j], "|", f"t{t + 1}")
                    k += 1
        return pd.DataFrame(rows)

    def latent_means(self, f: OrdinalStep, comparable: bool | None) -> pd.DataFrame:
        """Latent means of groups 2..G in the scalar model (group 1's are 0, its variances 1: the
        differences are in the reference group's standard deviations)."""
        se = np.sqrt(np.clip(np.diag(f.vcov), 0, None))
        rows = []
        for g in range(1, len(self.groups)):
            idx = f.specs[g][1]
            for l, v in enumerate(self.latent):
                k = idx[self.off[2] + l]
                est, s = float(f.theta[k]), float(se[k])
                rows.append({"model": f.name, "factor": v, "group": self.groups[g], "reference": self.groups[0],
                             "est": est, "se": s, "z": est / s, "pvalue": float(2 * stats.norm.sf(abs(est / s))),
                             "ci_lower": est - Z975 * s, "ci_upper": est + Z975 * s, "estimator": "WLSMV",
                             "comparable": comparable})
        return pd.DataFrame(rows)


def _scaled_shifted(chisq, df, tr, tr2):
    if df <= 0 or not tr2 > 0:
        return (float("nan"),) * 3
    a = np.sqrt(df / tr2)
    return float(chisq * a + df - a * tr), float(1 / a), float(df - a * tr)


# --- the steps ------------------------------------------------------------------------------------

class Unsupported(CSIError):
    """The model cannot be tested by ordinal invariance as it stands (the caller falls back)."""


def factors_of(description: str) -> dict[str, list[str]]:
    """The CFA's factors and their items; only `=~` lines with free loadings are supported."""
    from .. import psychometrics, sem

    text, _ = sem.strip_model(description)
    other = [l.strip() for l in text.splitlines() if l.strip() and "=~" not in l]
    if other:
        raise Unsupported(f"ordinal invariance supports factor definitions (=~) only, not {other[0]!r}")
    factors = psychometrics.indicators(description)
    if any("*" in l.split("=~")[1] for l in text.splitlines() if "=~" in l):
        raise Unsupported("ordinal invariance does not support fixed or labelled loadings")
    single = [f for f, items in factors.items() if len(items) < 2]
    if single:
        raise Unsupported(f"factor {single[0]!r} has one indicator: in the delta parameterization its loading "
                          "is not identified")
    return factors


def analyse(description: str, data: pd.DataFrame, group: str, verdict, missing: str = "pairwise"):
    """The four steps of ordinal invariance, each against the one before; latent means from the
    scalar model. `verdict` is the package's verdict(step, d_cfi, d_rmsea, d_srmr)."""
    from . import Invariance

    og = OrdinalGroups(factors_of(description), data, group, missing)
    fits, rows = {}, []
    prev = None
    for step in STEPS:
        f = og.fit(step)
        fits[step] = f
        row = {"model": step, **{k: v for k, v in f.row.items() if k != "problems"}, "estimator": "WLSMV"}
        if prev is None:
            row.update(compared_with="", verdict=_judged(f) or "baseline: same structure in every group")
        else:
            row.update(_compare(og, f, prev, verdict))
        rows.append(row)
        prev = f
    table = pd.DataFrame(rows)
    if og.merged:
        table["note"] = f"{MERGED}: " + "; ".join(og.merged)
    lead = ["compared_with", "verdict"]
    table = table[[c for c in table.columns if c not in lead] + lead]
    held = all("does NOT hold" not in v and "cannot be judged" not in v for v in table["verdict"])
    means = og.latent_means(fits["scalar"], held)       # not comparable unless every step holds
    scores = pd.DataFrame(columns=["model", "iteration", "param", "kind", "group", "X2", "df", "pvalue", "released"])
    return Invariance(table, means, scores, fits)


def _judged(f: OrdinalStep) -> str:
    if not f.row["converged"]:
        return f"cannot be judged: the {f.name} model did not converge"
    if not f.row["admissible"]:
        return f"cannot be judged: the {f.name} model is inadmissible ({f.row['problems']})"
    return ""


def _compare(og: OrdinalGroups, new: OrdinalStep, ref: OrdinalStep, verdict) -> dict:
    a, b = new.row, ref.row
    out = {f"delta_{k}": a[k] - b[k] for k in ("chisq", "df", "cfi", "rmsea", "srmr", "cfi_scaled", "rmsea_scaled")}
    stat, m, p = og.difference(ref, new)
    out.update(compared_with=ref.name, delta_chisq_scaled=stat, delta_pvalue=p)
    problem = _judged(new) or _judged(ref)
    if problem:
        out["verdict"] = problem
    elif m == 0:
        out["verdict"] = (f"{new.name}: no testable constraint (items with at most three categories: the "
                          f"{new.name} model is equivalent to the {ref.name} model; Wu & Estabrook 2016)")
    else:
        out["verdict"] = verdict(new.step, out["delta_cfi_scaled"], out["delta_rmsea_scaled"], out["delta_srmr"])
    return out
