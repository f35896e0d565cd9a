"""Good-rating rates with Wilson 95% CIs: by day, week and month; by window, service, channel, staff
and hall (rates of fewer than `min_n` ratings withheld); hour x weekday; deadline and high-load days
against other days; trend and weekday effects (binomial GLM, statsmodels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, test_proportions_2indep

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def with_ci(t: pd.DataFrame, k: str = "good", n: str = "n") -> pd.DataFrame:
    t = t.copy()
    kk, nn = t[k].to_numpy(float), t[n].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t["rate"] = np.where(nn > 0, kk / np.maximum(nn, 1), np.nan)
        lo, hi = proportion_confint(kk, np.maximum(nn, 1), alpha=0.05, method="wilson")
    t["ci_lower"] = np.where(nn > 0, lo, np.nan)
    t["ci_upper"] = np.where(nn > 0, hi, np.nan)
    return t


def daily(counts: pd.DataFrame) -> pd.DataFrame:
    """Ratings per day of rating (all channels): n, good, bad."""
    d = counts[counts["set"] == "channel"].groupby("day")[["n", "good", "bad"]].sum().reset_index()
    return d.sort_values("day").reset_index(drop=True)


def week_start(day: pd.Series) -> pd.Series:
    day = pd.to_datetime(day)
    return (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.normalize()


def by_period(d: pd.DataFrame, period: str) -> pd.DataFrame:
    """Rates per day, week (starting Monday) or month."""
    d = d.copy()
    day = pd.to_datetime(d["day"])
    key = {"day": day, "week": week_start(day), "month": day.dt.to_period("M").dt.start_time}[period]
    t = d.assign(start=key).groupby("start")[["n", "good", "bad"]].sum().reset_index()
    t["start"] = t["start"].dt.date.astype(str)
    t = with_ci(t)
    t["bad_rate"] = t["bad"] / t["n"]
    return t.rename(columns={"start": period})


def by_dimension(counts: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """Rates by hall, window (within hall), service, channel and staff over the whole period;
    rate and CI withheld below `min_n` ratings."""
    parts = []
    for dim, set_, keys in (("hall", "window", ["hall"]), ("window", "window", ["hall", "window"]),
                            ("service", "service", ["service"]), ("channel", "channel", ["channel"]),
                            ("staff", "staff", ["hall", "staff"])):
        t = counts[counts["set"] == set_].groupby(keys)[["n", "good", "bad"]].sum().reset_index()
        t["value"] = t[keys[-1]]
        t["hall"] = t["hall"] if "hall" in keys else ""
        t.insert(0, "dimension", dim)
        parts.append(t[["dimension", "hall", "value", "n", "good", "bad"]])
    t = with_ci(pd.concat(parts, ignore_index=True))
    t["bad_rate"] = t["bad"] / t["n"]
    t["suppressed"] = t["n"] < min_n
    for c in ("good", "bad", "rate", "ci_lower", "ci_upper", "bad_rate"):
        t[c] = t[c].astype(float).where(~t["suppressed"])
    return t


def heatmap(counts: pd.DataFrame) -> pd.DataFrame:
    """On-site ratings (rating time = service time) by weekday and hour."""
    h = counts[(counts["set"] == "hour") & (counts["on_site"] == True)].copy()  # noqa: E712 (nullable)
    h["weekday"] = pd.to_datetime(h["day"]).dt.day_of_week + 1
    t = h.groupby(["weekday", "hour"])[["n", "good", "bad"]].sum().reset_index()
    days = h.groupby("weekday")["day"].nunique()
    t["weekday_name"] = t["weekday"].map(lambda k: WEEKDAYS[k - 1])
    t["ratings_per_day"] = t["n"] / t["weekday"].map(days)
    return with_ci(t)


def deadline_days(d: pd.DataFrame, k: int) -> set:
    """The last k working days (Monday-Friday with ratings) of each month: the declaration deadline."""
    day = pd.to_datetime(d.loc[d["n"] > 0, "day"])
    work = day[day.dt.day_of_week < 5].sort_values()
    out = set()
    for _, g in work.groupby(work.dt.to_period("M")):
        out |= set(g.iloc[-k:].dt.date)
    return out


def peaks(d: pd.DataFrame, deadline_k: int = 3, load_factor: float = 1.5) -> pd.DataFrame:
    """Deadline days (last working days of the month) and high-load days (more than `load_factor`
    times the median volume of the same weekday) against the other days: rates, the difference
    with its Newcombe CI and a score test."""
    d = d.copy()
    day = pd.to_datetime(d["day"])
    dl = deadline_days(d, deadline_k)
    median = d.groupby(day.dt.day_of_week)["n"].transform("median")
    groups = {f"deadline days (last {deadline_k} working days of the month)": day.dt.date.isin(dl),
              f"high-load days (> {load_factor:g} x the weekday's median volume)": d["n"] > load_factor * median}
    rows = []
    for name, mask in groups.items():
        a, b = d[mask], d[~mask]
        ka, na, kb, nb = a["good"].sum(), a["n"].sum(), b["good"].sum(), b["n"].sum()
        rec = {"days": name, "n_days": int(mask.sum()), "ratings": int(na), "ratings_per_day": na / max(mask.sum(), 1),
               "rate": ka / na if na else np.nan, "other_days": int((~mask).sum()), "other_ratings": int(nb),
               "other_ratings_per_day": nb / max((~mask).sum(), 1), "other_rate": kb / nb if nb else np.nan}
        if na and nb:
            rec["rate_ci_lower"], rec["rate_ci_upper"] = proportion_confint(ka, na, method="wilson")
            rec["diff"] = rec["rate"] - rec["other_rate"]
            rec["diff_ci_lower"], rec["diff_ci_upper"] = confint_proportions_2indep(ka, na, kb, nb, method="newcomb")
            rec["p_value"] = float(test_proportions_2indep(ka, na, kb, nb, method="score").pvalue)
        rows.append(rec)
    return pd.DataFrame(rows)


def trend(d: pd.DataFrame, deadline_k: int = 3) -> pd.DataFrame:
    """Binomial GLM of the daily good counts: linear trend (per 30 days), weekday (vs Monday) and
    deadline day. Odds ratios with 95% CIs."""
    import statsmodels.api as sm

    d = d[d["n"] > 0].copy()
    day = pd.to_datetime(d["day"])
    X = pd.DataFrame({"const": 1.0, "trend_per_30_days": (day - day.min()).dt.days / 30.0}, index=d.index)
    present = sorted(day.dt.day_of_week.unique())
    for k in present[1:]:
        X[f"weekday_{WEEKDAYS[k]}"] = (day.dt.day_of_week == k).astype(float)
    X["deadline_day"] = day.dt.date.isin(deadline_days(d, deadline_k)).astype(float)
    y = np.column_stack([d["good"], d["n"] - d["good"]])
    # quasi-binomial: SEs scaled by the Pearson dispersion (days vary more than binomial counts do)
    fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(scale="X2")
    ci = fit.conf_int()
    # a term whose days are all good (or all bad) has no finite estimate: shown as missing
    ok = (fit.bse.to_numpy() < 10) & np.isfinite(fit.bse.to_numpy())
    with np.errstate(over="ignore"):
        out = pd.DataFrame({"term": X.columns, "estimate": fit.params.to_numpy(), "se": fit.bse.to_numpy(),
                            "odds_ratio": np.exp(fit.params.to_numpy()), "ci_lower": np.exp(ci[0].to_numpy()),
                            "ci_upper": np.exp(ci[1].to_numpy()), "pvalue": fit.pvalues.to_numpy()})
    out.loc[~ok, ["estimate", "se", "odds_ratio", "ci_lower", "ci_upper", "pvalue"]] = np.nan
    out["dispersion"] = fit.pearson_chi2 / fit.df_resid   # > 1: more day-to-day variation than binomial
    return out[out["term"] != "const"].reset_index(drop=True)


def reasons(counts: pd.DataFrame, options: list[dict]) -> pd.DataFrame:
    """Bad-rating reasons ranked, overall and by service (share of bad ratings citing each)."""
    s = counts[counts["set"] == "service"]
    cols = [f"r_{o['code']}" for o in options]
    by = s.groupby("service")[["bad"] + cols].sum()
    rows = []
    for service, r in [("(all)", by.sum())] + list(by.iterrows()):
        ranked = sorted(options, key=lambda o: -r[f"r_{o['code']}"])
        for k, o in enumerate(ranked, start=1):
            n = int(r[f"r_{o['code']}"])
            rows.append({"service": service, "rank": k, "reason": o["code"], "label_en": o["label"]["en"],
                         "label_zh": o["label"]["zh"], "bad_ratings": int(r["bad"]), "citing": n,
                         "share": n / r["bad"] if r["bad"] else np.nan})
    return pd.DataFrame(rows)
