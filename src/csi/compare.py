"""Comparing districts: CSI league table, indicators against a criterion, invariance.

Latent means and CSI indices are compared across districts only where scalar invariance holds
across them (equal loadings and intercepts); otherwise the table says why they are not
comparable. Top-box rates of single indicators are observed shares and compare directly.

Rank uncertainty (`rank_uncertainty`): the districts are independent samples, so draw b of each
district's bootstrap (model/index_draws.csv) combines with draw b of the others into a joint draw;
in each joint draw the districts are ranked by index as in the league table. A district without a
rank (model not admissible: index withheld, no draws) takes no part. The pairing assumes the
districts' draws are independent: the pipeline draws each district's rows from its own seed stream
(`csi fit --stream DISTRICT`: SeedSequence([seed, key(district), b])). Districts fitted with the
same seed and no stream would resample the same relative row positions in draw b.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import index, invariance, psychometrics
from .errors import CSIError


DISTRICT_LIST = ["district", "results", "title"]


def read_district_list(path) -> tuple[dict[str, Path], dict[str, str]]:
    """The districts to compare from a tab-separated file (header district, results, title): a
    file, not the command line, so that a thousand districts fit."""
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    if not rows or rows[0][:2] != DISTRICT_LIST[:2]:
        raise CSIError("the district list does not start with the header district, results, title",
                       file=path, hint="write a tab-separated file with that header, one district per line.")
    folders, titles = {}, {}
    for i, row in enumerate(rows[1:], start=2):
        if len(row) < 2 or not row[0] or not row[1]:
            raise CSIError(f"line {i} of the district list has no district name or results folder", file=path,
                           row=i, hint="each line: district<TAB>results folder<TAB>title.")
        folders[row[0]] = Path(row[1])
        if len(row) > 2 and row[2]:
            titles[row[0]] = row[2]
    return folders, titles


def pooled(districts: dict[str, Path]) -> pd.DataFrame:
    frames = [pd.read_parquet(Path(folder) / "data/clean.parquet").assign(district=name)
              for name, folder in districts.items()]
    return pd.concat(frames, ignore_index=True)


def comparability(inv: pd.DataFrame) -> tuple[bool, str]:
    t = inv.set_index("model")
    scalar, metric = t.loc["scalar", "verdict"], t.loc["metric", "verdict"]
    judged = [v for v in t["verdict"] if v.startswith("cannot be judged")]
    if judged:
        return False, f"NOT comparable: invariance {judged[0]}"
    if "thresholds" in t.index and "does NOT hold" in t.loc["thresholds", "verdict"]:
        return False, ("NOT comparable: the item thresholds differ between districts (threshold invariance "
                       "fails), so the same answer does not mean the same between districts")
    if "does NOT hold" not in metric and "does NOT hold" not in scalar:
        return True, "scalar invariance holds across districts: indices and latent means are comparable"
    if "does NOT hold" in metric:
        return False, ("NOT comparable: loadings differ between districts (metric invariance fails), "
                       "so the constructs are not measured the same way")
    return False, ("NOT comparable: item intercepts differ between districts (scalar invariance fails), "
                   "so differences in indices mix service quality with differences in how items are "
                   "answered; compare single indicators instead")


def league(districts: dict[str, Path], names: dict[str, str], comparable: bool, note: str) -> pd.DataFrame:
    rows = []
    for d, folder in districts.items():
        idx = pd.read_csv(Path(folder) / "model/index.csv")
        for r in idx.itertuples():
            rows.append({"district": d, "name": names.get(d, d), "construct": r.construct, "index": r.index,
                         "ci_lower": r.ci_lower, "ci_upper": r.ci_upper})
    t = pd.DataFrame(rows)
    # a district whose model is not admissible has no index (withheld) and no rank
    t["rank"] = t.groupby("construct")["index"].rank(ascending=False, method="min").astype("Int64")
    t["comparable"] = comparable
    t["note"] = note
    return t.sort_values(["construct", "rank"], kind="stable").reset_index(drop=True)


def criterion(districts: dict[str, Path], names: dict[str, str], level: float,
              drivers: set[str]) -> pd.DataFrame:
    """Top-box share of every service indicator (items of the driver constructs) per district
    against the criterion (e.g. 90%)."""
    rows = []
    for d, folder in districts.items():
        top = pd.read_csv(Path(folder) / "tables/top_box.csv")
        for r in top[top["construct"].isin(drivers)].itertuples():
            status = ("meets" if r.ci_lower >= level else "below" if r.ci_upper < level else
                      "meets (CI includes the criterion)" if r.rate >= level else
                      "below (CI includes the criterion)")
            rows.append({"district": d, "name": names.get(d, d), "item": r.item, "construct": r.construct,
                         "label_en": r.label_en, "n": r.n, "rate": r.rate, "ci_lower": r.ci_lower,
                         "ci_upper": r.ci_upper, "criterion": level, "meets": bool(r.rate >= level),
                         "status": status})
    return pd.DataFrame(rows)


def run(model_text: str, districts: dict[str, Path], names: dict[str, str], level: float,
        drivers: set[str], estimator: str = "ML", ordered: list[str] | None = None):
    """League, criterion, invariance across districts (estimator ML, MLR, MLM, WLSMV or auto:
    WLSMV when every item is `ordered`, else MLR when Mardia's test rejects normality) and the
    districts' latent mean differences."""
    data = pooled(districts)
    cfa = psychometrics.measurement_model(model_text)
    result = invariance.analyse(cfa, data, "district", estimator, ordered=ordered)
    inv = result.table
    ok, note = comparability(inv)
    return (league(districts, names, ok, note), criterion(districts, names, level, drivers), inv,
            result.latent_means)


def summary(crit: pd.DataFrame) -> pd.DataFrame:
    """Per district: service indicators meeting the criterion, and those below it."""
    out = []
    for d, ind in crit.groupby("district", sort=False):
        out.append({"district": d, "name": ind["name"].iloc[0], "indicators": len(ind),
                    "meeting": int(ind["meets"].sum()), "share_meeting": float(ind["meets"].mean()),
                    "below": ", ".join(ind.loc[~ind["meets"], "item"])})
    return pd.DataFrame(out)


def read_draws(districts: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Each district's model/index_draws.csv (written by `csi fit --codebook`)."""
    out = {}
    for d, folder in districts.items():
        path = Path(folder) / "model/index_draws.csv"
        if not path.exists():
            raise CSIError(f"district {d!r} has no bootstrap draws of its indices", file=path,
                           hint="rerun `csi fit` with --codebook (and --bootstrap B) for this district.")
        out[d] = pd.read_csv(path)
    return out


def _draws(draws: pd.DataFrame | None, construct: str) -> pd.Series | None:
    """A district's draws of one index, by draw number; None when it has none."""
    if draws is None or construct not in draws.columns or not len(draws):
        return None
    return draws.set_index("draw")[construct].astype(float)


def _joint(series: list[pd.Series]) -> tuple[np.ndarray, int]:
    """(draws, districts) matrix over the draw numbers that every district has (NaN kept) and the
    number of those draws with a NaN in some district (left out)."""
    common = sorted(set.intersection(*(set(v.index) for v in series)))
    m = np.column_stack([v.loc[common].to_numpy(float) for v in series]) if common else \
        np.empty((0, len(series)))
    return m, int(np.isnan(m).any(axis=1).sum())


LEAGUE_RANK_COLUMNS = ["construct", "district", "name", "rank", "probability", "p_tied", "draws", "left_out"]
DIFFERENCE_COLUMNS = ["construct", "district", "name", "other", "other_name", "difference", "ci_lower",
                      "ci_upper", "p_higher", "draws", "left_out"]


def rank_distribution(league_: pd.DataFrame, draws: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """league_ranks.csv: for each construct, each ranked district's share of joint draws at each rank
    (1 = highest index). Joint draws with a NaN (a refit that did not converge) are left out and
    counted; tied districts share the ranks they span equally (p_tied: share of draws with a tie).
    A construct on which a ranked district has no draws gets no rows: ranks among the others
    would not be ranks in the league."""
    rows = []
    for c, t in league_.groupby("construct", sort=False):
        t = t[t["rank"].notna()]
        series = [_draws(draws.get(d), c) for d in t["district"]]
        if not len(t) or any(v is None for v in series):
            continue
        m, _ = _joint(series)
        p, tied, used, left = index.rank_probabilities(m)
        n = len(t)
        rows.append(pd.DataFrame({"construct": c, "district": np.repeat(t["district"].to_numpy(), n),
                                  "name": np.repeat(t["name"].to_numpy(), n), "rank": np.tile(np.arange(1, n + 1), n),
                                  "probability": p.ravel(), "p_tied": np.repeat(tied, n), "draws": used,
                                  "left_out": left}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=LEAGUE_RANK_COLUMNS)


def differences(league_: pd.DataFrame, draws: dict[str, pd.DataFrame], level: float = 0.95) -> pd.DataFrame:
    """league_differences.csv: every pair of ranked districts per construct, the higher-ranked first:
    difference of the indices (district - other), its bootstrap percentile CI from the joint draws
    of the two, and p_higher, the share of those draws in which the district's index is higher
    (equal counts half). Draws with a NaN in either are left out and counted; NaN CIs when one of
    the two has no draws."""
    a = (1 - level) / 2
    rows = []
    for c, t in league_.groupby("construct", sort=False):
        t = t[t["rank"].notna()].reset_index(drop=True)
        of = {d: _draws(draws.get(d), c) for d in t["district"]}     # each district's draws once
        for i in range(len(t)):
            for j in range(i + 1, len(t)):
                x, y = t.iloc[i], t.iloc[j]
                row = {"construct": c, "district": x["district"], "name": x["name"], "other": y["district"],
                       "other_name": y["name"], "difference": x["index"] - y["index"], "ci_lower": np.nan,
                       "ci_upper": np.nan, "p_higher": np.nan, "draws": 0, "left_out": 0}
                pair = [of[x["district"]], of[y["district"]]]
                if all(v is not None for v in pair):
                    m, left = _joint(pair)
                    m = m[~np.isnan(m).any(axis=1)]
                    row.update(draws=len(m), left_out=left)
                    if len(m):
                        diff = m[:, 0] - m[:, 1]
                        row.update(ci_lower=np.quantile(diff, a), ci_upper=np.quantile(diff, 1 - a),
                                   p_higher=float((diff > 0).mean() + 0.5 * (diff == 0).mean()))
                rows.append(row)
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def rank_uncertainty(districts: dict[str, Path], league_: pd.DataFrame, level: float = 0.95):
    """(league with p_rank, p_first and p_tied added, league_ranks.csv, league_differences.csv) from
    the districts' index draws. p_rank: share of joint draws in which the district holds its
    league rank; NaN where there is no rank distribution (see rank_distribution)."""
    draws = read_draws(districts)
    ranks = rank_distribution(league_, draws)
    share = ranks.set_index(["construct", "district", "rank"])["probability"]
    tied = ranks.drop_duplicates(["construct", "district"]).set_index(["construct", "district"])["p_tied"]
    out = league_.copy()
    keys = list(zip(out["construct"], out["district"], out["rank"]))
    out["p_rank"] = [share.get((c, d, int(r)), np.nan) if pd.notna(r) else np.nan for c, d, r in keys]
    out["p_first"] = [share.get((c, d, 1), np.nan) if pd.notna(r) else np.nan for c, d, r in keys]
    out["p_tied"] = [tied.get((c, d), np.nan) for c, d, _ in keys]
    return out, ranks, differences(league_, draws, level)


def league_phrase(row, language: str = "en") -> str | None:
    """Phrase for one row of the league table with rank uncertainty (rank_uncertainty's league):
    'ranked 2nd in 61% of draws (1st in 30%)'. None without a rank distribution."""
    return index.rank_phrase(row["rank"], row["p_rank"], row["p_first"], row.get("p_tied", 0.0), "rank", language)


def difference_phrase(row, language: str = "en", digits: int = 1, level: float = 0.95) -> str:
    """Phrase for one league_differences.csv row (CIs at `level`, as differences() computed them):
    '2.1 points higher (95% CI 0.3 to 3.9; higher in 98% of draws)'."""
    d, lo, hi = row["difference"], row["ci_lower"], row["ci_upper"]
    def f(v):           # a minus sign, not a hyphen; never −0.0
        t = f"{v:.{digits}f}"
        return (t.lstrip("-") if float(t) == 0 else t).replace("-", "−")
    ci = f"{100 * level:g}%"
    zh = language == "zh"
    if pd.isna(lo):
        return f"相差 {f(d)} 分（无自助抽样）" if zh else f"{f(d)} points apart (no bootstrap draws)"
    share = index.share_text(row["p_higher"])
    if zh:
        return f"高 {f(d)} 分（{ci} 置信区间 {f(lo)} 至 {f(hi)}；{share} 的自助抽样中更高）"
    return f"{f(d)} points higher ({ci} CI {f(lo)} to {f(hi)}; higher in {share} of draws)"
