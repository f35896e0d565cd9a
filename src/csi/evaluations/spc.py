"""Statistical process control of the weekly good-rating rate per window and per service.

Expected rate. Each unit (a window, a service) has its own level; some days move every unit
together (the month-end declaration deadline, Mondays), so the expected rate of a unit on a day
comes from a logistic two-way model, logit P(good) = unit level + day effect, and its expected rate
in a week is the mean over that week's ratings: a common cause is not an alarm, a unit that parts
from the others is. The unit's level is the one of its in-control weeks among the 26 before (as
monitoring would see it; the first 8 weeks are judged against each other, phase I, Montgomery 2019
ch. 7), so a lasting change is flagged from its start and stays flagged; the day effects are
fitted to the in-control weeks of all units, and the whole is redrawn until the in-control weeks
no longer change.

p-chart with varying n, probability limits: a week is flagged when its count of good ratings lies
in either tail of Binomial(n, expected) beyond alpha / 2 (alpha = 0.0027, the 3-sigma chart's
rate). Exact binomial tails keep the false-alarm probability of each week at or below alpha
whatever n (normal 3-sigma limits do not at rates near 1).

EWMA (Roberts 1959; Lucas & Saccucci 1990) of the weekly counts standardized by the mid-p
probability transform z = Phi^-1(P(X < x) + P(X = x) / 2), X ~ Binomial(n, e), lambda = 0.2, limits +-L sd_t with the exact time-varying sd;
L = 3 gives each in-control week a marginal flag probability of 2 Phi(-3) = 0.0027 under the normal
approximation. It sees slow drift that single weeks do not.

Out-of-control periods are runs of consecutive flagged weeks, with their dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

ALPHA = 0.0027
LAMBDA = 0.2
L = 3.0


def daily(counts: pd.DataFrame, chart: str) -> pd.DataFrame:
    """Daily n and good per unit: chart 'window' (unit = 'hall window') or 'service'."""
    if chart == "window":
        t = counts[counts["set"] == "window"].copy()
        t["unit"] = t["hall"].astype(str) + " " + t["window"].astype(str)
    else:
        t = counts[counts["set"] == "service"].copy()
        t["unit"] = t["service"].astype(str)
    t["day"] = pd.to_datetime(t["day"])
    return t.groupby(["unit", "day"])[["n", "good"]].sum().reset_index()


def _two_way(n, x, u, dd, w, n_units, n_days, iterations=50):
    """Logistic two-way model logit P(good) = b_unit + s_day fitted to the cells with weight w
    (Newton steps in turn per unit and per day); s is centred on 0."""
    rate = (np.bincount(u, w * x, n_units) + 0.5) / (np.bincount(u, w * n, n_units) + 1.0)
    b, s = special.logit(rate), np.zeros(n_days)
    for _ in range(iterations):
        p = special.expit(b[u] + s[dd])
        step = np.bincount(dd, w * (x - n * p), n_days) / np.maximum(np.bincount(dd, w * n * p * (1 - p), n_days), 1e-9)
        s = s + np.clip(step, -2, 2)
        p = special.expit(b[u] + s[dd])
        step_b = np.bincount(u, w * (x - n * p), n_units) / np.maximum(np.bincount(u, w * n * p * (1 - p), n_units), 1e-9)
        b = b + np.clip(step_b, -2, 2)
        shift = np.average(s, weights=np.maximum(np.bincount(dd, w * n, n_days), 1e-9))
        s, b = s - shift, b + shift
        if max(np.abs(step).max(), np.abs(step_b).max()) < 1e-8:
            break
    return b, s


def _level(x, n, shift, b=None) -> float:
    """Unit level b (logit) with sum n expit(b + shift) = sum x (Newton steps, from b if given)."""
    if b is None:
        b = special.logit((x.sum() + 0.5) / (n.sum() + 1.0)) - np.average(shift, weights=n)
    for _ in range(30):
        p = special.expit(b + shift)
        step = (x.sum() - (n * p).sum()) / max((n * p * (1 - p)).sum(), 1e-9)
        b += np.clip(step, -2, 2)
        if abs(step) < 1e-10:
            break
    return float(b)


def chart(d: pd.DataFrame, alpha: float = ALPHA, lam: float = LAMBDA, L_: float = L, baseline_weeks: int = 26,
          first_weeks: int = 8, rounds: int = 3) -> pd.DataFrame:
    """Weekly p-chart and EWMA per unit from a daily table (unit, day, n, good), drawn as monitoring
    would: each week against the unit's level in its in-control weeks of the `baseline_weeks` before
    (the first `first_weeks` weeks against each other)."""
    from .rates import week_start

    d = d[d["n"] > 0].sort_values(["unit", "day"]).reset_index(drop=True)
    if d.empty:
        return pd.DataFrame()
    d["week"] = week_start(d["day"])
    u, units = pd.factorize(d["unit"], sort=True)
    dd, days = pd.factorize(d["day"], sort=True)
    cell, cells = pd.factorize(d["unit"] + "|" + d["week"].dt.date.astype(str), sort=True)
    n_d, x_d = d["n"].to_numpy(float), d["good"].to_numpy(float)
    in_control = np.ones(len(cells), bool)
    for _ in range(rounds):
        _, s = _two_way(n_d, x_d, u, dd, in_control[cell].astype(float), len(units), len(days))
        frames, new = [], np.zeros(len(cells), bool)
        for k in range(len(units)):
            rows = np.flatnonzero(u == k)
            c = cell[rows]                          # cells of this unit, in week order
            ids = np.unique(c)
            frame, ok = _unit_chart(ids, c, n_d[rows], x_d[rows], s[dd[rows]], in_control[ids], alpha, lam, L_,
                                    baseline_weeks, first_weeks)
            new[ids] = ok
            frames.append(frame.assign(unit=units[k], week=[cells[i].split("|", 1)[1] for i in ids]))
        if (new == in_control).all():
            break
        in_control = new
    out = pd.concat(frames, ignore_index=True)
    return out[["unit", "week"] + [c for c in out.columns if c not in ("unit", "week")]]


def _unit_chart(ids, c, n_d, x_d, s, prior_ok, alpha, lam, L_, baseline_weeks, first_weeks):
    k = len(ids)
    pos = np.searchsorted(ids, c)                    # week index of each day
    n = np.bincount(pos, n_d, k)
    x = np.bincount(pos, x_d, k)
    e, level = np.zeros(k), np.zeros(k)
    ok_day = prior_ok[pos]
    b = None
    for w in range(k):
        lo, hi = (0, min(first_weeks, k)) if w < first_weeks else (max(0, w - baseline_weeks), w)
        m = ok_day & (pos >= lo) & (pos < hi)
        if np.count_nonzero(prior_ok[lo:hi]) < 2:
            m = pos < min(first_weeks, k)
        b = _level(x_d[m], n_d[m], s[m], b)
        day = pos == w
        e[w] = (n_d[day] * special.expit(b + s[day])).sum() / n[w]
        level[w] = special.expit(b)
    low = stats.binom.cdf(x, n, e) < alpha / 2
    high = stats.binom.sf(x - 1, n, e) < alpha / 2
    # standardized by the mid-p probability transform (normal at any n, unlike (x - ne) / sd at rates near 1)
    z = stats.norm.ppf(np.clip(stats.binom.cdf(x - 1, n, e) + 0.5 * stats.binom.pmf(x, n, e), 1e-12, 1 - 1e-12))
    ew, limit = _ewma(z, lam, L_)
    frame = pd.DataFrame({
        "n": n.astype(int), "good": x.astype(int), "rate": x / n, "expected": e, "level": level,
        "lower": stats.binom.ppf(alpha / 2, n, e) / n, "upper": stats.binom.isf(alpha / 2, n, e) / n,
        "p_flag": np.where(low, "low", np.where(high, "high", "")), "z": z, "ewma": ew, "ewma_limit": limit,
        "ewma_flag": np.where(ew < -limit, "low", np.where(ew > limit, "high", ""))})
    ok = ~(low | high | (np.abs(ew) > limit))
    frame["in_control"] = ok
    return frame, ok


def _ewma(z, lam, L_):
    """EWMA of one unit's weekly z (in week order) and its limit L sd_t."""
    ew, prev = np.zeros(len(z)), 0.0
    for i in range(len(z)):
        prev = lam * z[i] + (1 - lam) * prev
        ew[i] = prev
    t = np.arange(1, len(z) + 1)
    return ew, L_ * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))


def signals(c: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Out-of-control periods: runs of consecutive flagged weeks of one unit and one chart."""
    cols = ["chart", "unit", "method", "direction", "start", "end", "weeks", "lowest_rate", "expected", "ratings"]
    parts = []
    for method, col in (("p-chart", "p_flag"), ("EWMA", "ewma_flag")):
        f = c[["unit", "week", "n", "rate", "expected", col]].rename(columns={col: "direction"})
        new_run = (f["direction"] != f["direction"].shift()) | (f["unit"] != f["unit"].shift())
        f = f.assign(run=new_run.cumsum())
        f = f[f["direction"] != ""]
        if f.empty:
            continue
        g = f.groupby("run")
        parts.append(pd.DataFrame({
            "chart": kind, "unit": g["unit"].first(), "method": method, "direction": g["direction"].first(),
            "start": g["week"].first(), "end": g["week"].last(), "weeks": g.size(), "lowest_rate": g["rate"].min(),
            "expected": g["expected"].first(), "ratings": g["n"].sum()}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    if len(out):   # a period ends on the Sunday of its last week
        out["end"] = (pd.to_datetime(out["end"]) + pd.Timedelta(days=6)).dt.date.astype(str)
    return out[cols].sort_values(["chart", "unit", "start", "method"], kind="stable").reset_index(drop=True)
