"""The comparison report: respondents and standardized rates, invariance across districts,
league table with rank uncertainty, indicators against the criterion."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import compare
from ..codebook import Codebook
from .document import Report, esc, is_simulated
from .tables import comparability_zh, invariance_table, latent_means_table, league_table, renamed


def comparison(results, out, cb: Codebook, config: dict, timestamp: int = 0) -> Path:
    """The comparison report (results: results/comparison): invariance across districts, league
    table, indicators against the criterion."""
    lang = config.get("language", "en")
    zh = lang == "zh"
    title = "区县比较" if zh else "Comparison of districts"
    r = Report(results, out, title, lang, cb, config.get("min_cell", 10))
    inv = r.read_csv("tables/invariance_districts.csv")
    league = renamed(r.read_csv("tables/league.csv"), config.get("names"))
    summary = r.read_csv("tables/criterion_summary.csv")
    crit = config.get("criterion", 0.9)
    sat = config["satisfaction"]
    names = dict(zip(league["district"], league["name"]))
    r.title_block(f"{title}{'：' if zh else ': '}{esc(cb.subject[lang])}",
                  r.t("byline", seed=config["seed"], B=config.get("bootstrap", "–")))
    s = league[league["construct"] == sat].sort_values("rank")
    withheld = s.loc[s["index"].isna(), "name"].tolist()   # a district whose model is not admissible
    ranked = s[s["index"].notna()]
    best, worst = (ranked.iloc[0], ranked.iloc[-1]) if len(ranked) else (None, None)
    comparable = bool(league["comparable"].all())
    if zh:
        r.add(f"*{r.t('abstract')}* 比较 {len(s)} 个使用相同问卷与模型的区县。{esc(comparability_zh(league['note'].iloc[0]))}。"
              + (f"满意度指数最高为 {esc(best['name'])}（{best['index']:.1f}），最低为 {esc(worst['name'])}"
                 f"（{worst['index']:.1f}）。" if best is not None else "")
              + (f"{esc('、'.join(withheld))}的模型解不可接受，其指数不予报告。" if withheld else ""))
    else:
        r.add(f"*{r.t('abstract')}.* {len(s)} districts that share a questionnaire and a model are compared. "
              f"{esc(league['note'].iloc[0][0].upper() + league['note'].iloc[0][1:])}. "
              + (f"The satisfaction index is highest in {esc(best['name'])} ({best['index']:.1f}) and lowest in "
                 f"{esc(worst['name'])} ({worst['index']:.1f}). " if best is not None else "")
              + (f"Withheld (model solution not admissible): {esc(', '.join(withheld))}." if withheld else ""))
    respondents_and_rates(r, names, zh)
    r.heading("invariance")
    invariance_table(r, inv, "区县间测量不变性" if zh else "Measurement invariance across districts",
                     "tables/invariance_districts.csv", "invariance_districts", lambda d: names.get(d, d))
    if (r.results / "tables/latent_means_districts.csv").exists():
        latent_means_table(r, r.read_csv("tables/latent_means_districts.csv"),
                            "区县间潜变量均值差异" if zh else "Latent mean differences between districts",
                            "tables/latent_means_districts.csv", "latent_means_districts",
                            lambda d: names.get(d, d))
    r.heading("league")
    t = league_table(r, s)
    r.table(t, "满意度指数区县比较" if zh else "Satisfaction index by district", "tables/league.csv",
            "league", "" if comparable else ("标量不变性不成立：排名仅供参考。" if zh else
                                             "Scalar invariance fails: the ranking is indicative only."),
            list(t.columns))
    diff_file = r.results / "tables/league_differences.csv"
    diffs = pd.read_csv(diff_file) if diff_file.exists() else pd.DataFrame()
    diffs = renamed(renamed(diffs, config.get("names")), config.get("names"), "other", "other_name")
    diffs = diffs[diffs["construct"] == sat] if len(diffs) else diffs
    if len(diffs):
        d = pd.DataFrame({"pair": [f"{a} – {b}" for a, b in zip(diffs["name"], diffs["other_name"])],
                          "difference": [compare.difference_phrase(row, lang) for _, row in diffs.iterrows()]})
        r.table(d, "区县两两差异（满意度指数）" if zh else "Pairwise differences of the satisfaction index",
                "tables/league_differences.csv", "league_differences",
                "自助抽样（Efron & Tibshirani, 1993）95% 百分位置信区间；各区县的自助抽样相互独立。" if zh else
                "Bootstrap (Efron & Tibshirani, 1993) 95% percentile CIs of the difference; each district is "
                "resampled independently; 'higher in x% of draws' is the share of draws in which the first "
                "district's index is the higher.",
                ["pair", "difference"])
    r.figure("figures/forest_satisfaction.png", "各区县满意度指数（95% 置信区间）。" if zh else
             "Satisfaction index by district (bootstrap 95% CIs).", "forest", "75%")
    wide = league.pivot_table(index="construct", columns="district", values="index", sort=False)
    order = list(s["district"])                    # districts by satisfaction rank
    wide = wide.reindex(columns=order).map(lambda v: f"{v:.1f}" if pd.notna(v) else "–").reset_index()
    wide["construct"] = wide["construct"].map(r.label)
    for d in order:
        r.columns[d] = (names[d], names[d])
    r.table(wide, "各维度指数" if zh else "Indices of every construct by district",
            "tables/league.csv", "league_constructs", columns=["construct"] + order)
    crit_rows = r.read_csv("tables/criterion.csv")
    status = {"meets": ("meets", "CI above"), "meets (CI includes the criterion)": ("meets_ci", "CI includes"),
              "below (CI includes the criterion)": ("below_ci", ""), "below": ("below_clear", "")}
    t = pd.DataFrame({"district": summary["district"].map(names),
                      "meeting": [f"{m} / {n}" for m, n in zip(summary["meeting"], summary["indicators"])]})
    for key, (col, _) in status.items():
        t[col] = [int((crit_rows.loc[crit_rows["district"] == d, "status"] == key).sum()) for d in summary["district"]]
    t["below"] = [("、" if zh else ", ").join(r.label(i) for i in crit_rows.loc[
        (crit_rows["district"] == d) & (crit_rows["status"] == "below"), "item"]) for d in summary["district"]]
    pct = f"{crit:.0%}"
    r.columns.update({"meets": (f"≥ {pct}, CI above", f"≥ {pct}，CI 高于标准"),
                      "meets_ci": (f"≥ {pct}, CI includes {pct}", f"≥ {pct}，CI 含标准"),
                      "below_ci": (f"< {pct}, CI includes {pct}", f"< {pct}，CI 含标准"),
                      "below_clear": (f"< {pct}, CI below", f"< {pct}，CI 低于标准"),
                      "below": ("Indicators", "指标")})
    r.table(t.drop(columns="below"), f"{'达到满意率标准' if zh else 'Indicators reaching the criterion'} ({pct})",
            "tables/criterion.csv, tables/criterion_summary.csv", "criterion",
            (f"各指标满意率及其 Wilson 95% 置信区间（Wilson, 1927）与 {pct} 标准比较：置信区间包含标准的指标，"
             "无法确定其是否达标。" if zh else
             f"Each indicator's top-box share with its Wilson 95% CI (Wilson, 1927) against {pct}: where the CI "
             "includes the criterion, the data cannot tell whether the indicator meets it."),
            ["district", "meeting", "meets", "meets_ci", "below_ci", "below_clear"])
    listed = t[t["below"] != ""]
    if len(listed):
        r.table(listed[["district", "below"]], f"置信区间上限仍低于 {pct} 的指标" if zh else
                f"Indicators below {pct} even at the upper end of their 95% CI", "tables/criterion.csv",
                "criterion_below", columns=["district", "below"])
    r.figure("figures/criterion_heatmap.png", "各指标满意率与标准。" if zh else
             "Top-box share per indicator and district against the criterion.", "heatmap")
    r.heading("limitations")
    limits = []
    if not comparable:
        limits.append("区县间标量不变性不成立，指数比较需谨慎。" if zh else
                      "Scalar invariance across districts does not hold: index differences may reflect "
                      "measurement, not satisfaction.")
    if any(map(is_simulated, names.values())):
        limits.append("数据为模拟数据。" if zh else "The data are simulated; the numbers illustrate the method.")
    limits += ([
        "各区县样本均未加权：比较的是受访者，而非全部服务对象；受访者构成不同的区县，原始满意率的差异部分来自构成"
        "（见标准化满意率）。",
        "各区县的调查时间与方式可能不同；同一时段、同一方式的调查才能严格比较。",
        "区县两两比较与排序概率未对多重比较校正：应看置信区间与概率，而非单个差异的显著性。",
        "满意率与指数均为自报数据，横断面调查：区县之间的差异不说明原因。"] if zh else [
        "The samples are not weighted: the comparison is of the respondents, not of every service user, and "
        "districts whose respondents differ in mix differ in raw rates for that reason alone (see the "
        "standardized rates).",
        "Fieldwork dates and modes may differ between districts; only surveys run the same way at the same time "
        "compare strictly.",
        "Pairwise differences and rank probabilities are not adjusted for multiple comparisons: read the "
        "intervals and probabilities, not the significance of single differences.",
        "Rates and indices are self-reported and cross-sectional: differences between districts do not show "
        "their causes."])
    r.add("\n".join(f"- {x}" for x in limits) or r.t("none_flagged"))
    r.references(cb.references)
    return r.write(timestamp)


def respondents_and_rates(r: Report, names: dict, zh: bool) -> None:
    """Respondents per district and their mix; service rates raw and standardized to one mix
    (standardize.py)."""
    mix_file, std_file = r.results / "tables/mix.csv", r.results / "tables/standardized.csv"
    if not mix_file.exists() or not std_file.exists():
        return
    mix, std = pd.read_csv(mix_file), pd.read_csv(std_file)
    if mix.empty:
        return
    r.heading("sample")
    groups = list(dict.fromkeys(mix["group"]))
    t = mix.pivot_table(index="district", columns="group", values="share", sort=False).reindex(columns=groups)
    n = mix.groupby("district", sort=False)["n"].sum()
    out = pd.DataFrame({"district": [names.get(d, d) for d in t.index], "n": n.reindex(t.index).to_numpy()})
    for g in groups:
        out[f"mix_{g}"] = [f"{100 * v:.1f}" for v in t[g]]
        r.columns[f"mix_{g}"] = (f"{r.type_name(g)}, %", f"{r.type_name(g)}，%")
    standard = mix.drop_duplicates("group").set_index("group")["standard_share"]
    std_text = ("、" if zh else ", ").join(f"{r.type_name(g)} {100 * standard[g]:.1f}%" for g in groups)
    r.table(out, "各区县受访者人数与构成" if zh else "Respondents and their mix by district", "tables/mix.csv", "mix",
            f"标准化所用的标准构成：{std_text}。" if zh else f"Standard mix used for the standardized rates: {std_text}.",
            ["district", "n", *[f"mix_{g}" for g in groups]])
    order = list(dict.fromkeys(std["district"]))
    rows = []
    for item, x in std.groupby("item", sort=False):
        row = {"item": r.label(item)}
        for d in order:
            v = x[x["district"] == d]
            row[d] = "–" if v.empty or pd.isna(v["rate_std"].iloc[0]) else \
                f"{100 * v['rate'].iloc[0]:.1f} → {100 * v['rate_std'].iloc[0]:.1f}"
        rows.append(row)
    for d in order:
        r.columns[d] = (names.get(d, d), names.get(d, d))
    moved = std.assign(shift=(std["rate_std"] - std["rate"]).abs()).sort_values("shift", ascending=False).iloc[0]
    r.add((f"受访者构成不同的区县，其原始满意率不能直接比较。按同一构成直接标准化（Fleiss et al., 2003）后，变化最大的是"
           f"{esc(names.get(moved['district'], moved['district']))}的“{esc(r.label(moved['item']))}”：由 "
           f"{100 * moved['rate']:.1f}% 变为 {100 * moved['rate_std']:.1f}%"
           f"（95% CI {100 * moved['ci_lower_std']:.1f}–{100 * moved['ci_upper_std']:.1f}）。") if zh else
          (f"Districts whose respondents differ in mix cannot be compared on raw rates. Standardized directly to one "
           f"mix (Fleiss et al., 2003), the largest change is {esc(names.get(moved['district'], moved['district']))}"
           f"'s {esc(r.label(moved['item']))}: from {100 * moved['rate']:.1f}% to {100 * moved['rate_std']:.1f}% "
           f"(95% CI {100 * moved['ci_lower_std']:.1f}–{100 * moved['ci_upper_std']:.1f})."))
    r.table(pd.DataFrame(rows), "满意率：原始 → 按标准构成标准化（%）" if zh else
            "Satisfaction rates, raw → standardized to the standard mix (%)", "tables/standardized.csv",
            "standardized",
            "标准化满意率 = Σ 标准构成占比 × 该类受访者的满意率；95% 置信区间见 standardized.csv（正态近似，"
            "各层方差用 Agresti–Coull 校正）。" if zh else
            "Standardized rate = Σ standard share × the type's rate in the district; 95% CIs in standardized.csv "
            "(normal approximation, Agresti–Coull-adjusted stratum variances).",
            ["item", *order])

