"""Sections of the district report: exclusion rules, gaps between respondent types, multiple-choice
questions, published figures, sensitivity to the estimator, priorities by respondent type, the
abstract's findings."""

from __future__ import annotations


import pandas as pd

from .. import index
from ..codebook import Codebook
from .document import Report, esc, pct_ci, readable, suppress
from .tables import invariant


def rules_text(flow: dict, zh: bool) -> str:
    """The exclusion rules with their thresholds (flow.json's `rules`, from `clean:` in the config)."""
    rules = flow.get("rules")
    if not rules:
        return ""
    st = rules["straightlining"]
    rev_en = ", one of them reverse-worded" if st["require_reversed"] else ""
    rev_zh = "（其中含反向题）" if st["require_reversed"] else ""
    share = f"{100 * rules['max_item_missing']:g}%"
    if zh:
        return (f"剔除标准：重复提交（同一受访者再次作答）；作答时间少于 {rules['min_duration_seconds']:g} 秒；"
                f"在同一量表组中对至少 {st['min_items']} 个题项给出完全相同的答案{rev_zh}；注意力题未通过；"
                f"缺答超过 {share} 的题项。")
    return (f"Exclusion thresholds: duplicates (the same respondent answering again); speeders, under "
            f"{rules['min_duration_seconds']:g} s; straight-liners, the same answer on all of at least "
            f"{st['min_items']} answered items of a grid{rev_en}; a failed attention check; incomplete responses, "
            f"more than {share} of the items unanswered.")


def gaps(r: Report, top: pd.DataFrame, levels: list, names: dict, zh: bool) -> None:
    """The difference between the two respondent types per indicator, in percentage points with
    Newcombe's CI, and its test (score; Fisher's exact where a cell is small), Holm-adjusted."""
    a, b = levels[:2]

    def pp(v):
        return f"{100 * v:.1f}".replace("-", "−")

    t = pd.DataFrame({"item": top["item"].map(r.label), f"n_{a}": top[f"n_{a}"], f"n_{b}": top[f"n_{b}"],
                      "gap": [None if pd.isna(d) else f"{pp(d)} [{pp(lo)}, {pp(hi)}]"
                              for d, lo, hi in zip(top["diff"], top["diff_ci_lower"], top["diff_ci_upper"])],
                      "p_holm": [None if pd.isna(p) else ("< .001" if p < .001 else f"{p:.3f}".replace("0.", ".", 1)
                                                     if p < 1 else "1") + ("†" if test == "exact" else "")
                            for p, test in zip(top.get("p_holm", top["p_value"]), top["test"])]})
    for g in (a, b):              # a gap reveals the cells of a group too small to publish (counted once, above)
        t = suppress(t, f"n_{g}", ["gap", "p_holm"], r.min_cell)[0]
    r.columns["gap"] = (f"{names[a]} − {names[b]}, percentage points [95% CI]", f"{names[a]} − {names[b]}（百分点）[95% CI]")
    tested = int(top["p_value"].notna().sum())
    note = (f"Newcombe's hybrid score CI of the difference; p: score test (†: Fisher's exact test, an expected cell "
            f"below 5), Holm-adjusted over the {tested} indicators tested. {r.t('suppressed', k=r.min_cell)}"
            if not zh else
            f"差值的 Newcombe 混合 score 置信区间；p：score 检验（†：期望频数小于 5，用 Fisher 精确检验），经 Holm 法对 "
            f"{tested} 个指标校正。{r.t('suppressed', k=r.min_cell)}")
    t = t[["item", "gap", "p_holm"]]
    r.table(t, f"{names[a]} − {names[b]}" + ("：满意率差异" if zh else ": differences in satisfaction rates"),
            "tables/top_box.csv", "gaps", note, ["item", "gap", "p_holm"])


def multiple_choice(r: Report, cb: Codebook, levels: list, zh: bool) -> None:
    """The codebook's multiple-choice questions (channels used, what to improve...): the share of
    respondents choosing each option, overall and per respondent type (tables/options.csv)."""
    path = r.results / "tables/options.csv"
    opts = pd.read_csv(path) if path.exists() else pd.DataFrame()
    if opts.empty:
        return
    r.heading("options", 2)
    questions = {c["code"]: c.get("label", {}) for c in cb.data["columns"] if "options" in c}
    for q, t0 in opts.groupby("question", sort=False):
        label = questions.get(q, {}).get(r.lang) or readable(q)
        t = pd.DataFrame({"item": t0["label_zh" if zh else "label_en"].to_numpy(), "n": t0["n"].to_numpy(),
                          "all": [pct_ci(*v) for v in t0[["rate", "ci_lower", "ci_upper"]].itertuples(index=False)]})
        t = r.suppress(t, "n", ["all"])
        cols = ["item", "n", "all"]
        for g in levels:
            if f"rate_{g}" not in t0:
                continue
            t[f"n_{g}"] = t0[f"n_{g}"].to_numpy()
            t[g] = [pct_ci(*v) for v in t0[[f"rate_{g}", f"ci_lower_{g}", f"ci_upper_{g}"]].itertuples(index=False)]
            t = r.suppress(t, f"n_{g}", [g])
            cols += [f"n_{g}", g]
        used = [g for g in levels if f"n_{g}" in t]
        t = r.complement(t, [[(i, f"n_{g}", [g]) for g in used] for i in t.index])   # as the rates table
        t = t[cols]
        r.table(t, label, "tables/options.csv", f"options_{q}",
                ("选择各选项的受访者比例（可多选，合计可超过 100%），Wilson 95% 置信区间。" if zh else
                 "Share of respondents choosing each option (several could be chosen, so shares add up to more "
                 "than 100%), with Wilson 95% CIs.") + " " + r.t("suppressed", k=r.min_cell),
                ["option", *cols[1:]])


def calibration(r: Report, zh: bool) -> None:
    """Each figure of the reproduced study beside its estimate and CI (tables/calibration.csv)."""
    f = r.results / "tables/calibration.csv"
    if not f.exists():
        return
    c = pd.read_csv(f)
    r.heading("calibration", 2)
    pub = c[~c["assumed"]]
    out = pub[pub["inside"] == False]   # noqa: E712 (a column of True/False)
    group = {"all": ("all", "全部"), "unit": ("units", "单位"), "individual": ("individuals", "个人")}

    def who(g, item=None):
        if not str(g).startswith("category"):
            return group.get(g, (g, g))[zh]
        code = int(g.split()[1])        # an answer category: its label on the item's scale
        if item in r.cb.by_code and r.cb.by_code[item].scale:
            return f"“{r.cb.scale_of(item).label_of(code, r.lang)}”"
        return f"类别 {code}" if zh else g

    named = "; ".join(f"{r.label(i) if i in r.cb.by_code else i} ({who(g, i)}): {100 * p:.0f}% vs "
                      f"{100 * e:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"
                      for i, g, p, e, lo, hi in out[["item", "group", "published", "estimate", "ci_lower",
                                                     "ci_upper"]].itertuples(index=False))
    if zh:
        r.add(f"论文公布的 {len(pub)} 个数字中，{len(out)} 个落在本复现 95% 置信区间之外" + (f"：{named}。" if named else "。")
              + f"另有 {int(c['assumed'].sum())} 个输入论文未公布，为模拟时的假设值（标为“假设”）；结构方程模型的全部输入均为假设（论文未做 SEM）。")
    else:
        r.add(f"Of the {len(pub)} figures the paper publishes, {len(out)} {'lies' if len(out) == 1 else 'lie'} outside "
              "this reproduction's 95% CI"
              + (f": {esc(named)}." if named else ".")
              + f" {int(c['assumed'].sum())} more inputs are not in the paper and were assumed for the simulation "
              "(marked assumed); every input of the structural model is assumed (the paper fits no SEM).")
    t = pd.DataFrame({"item": [r.label(i) if i in r.cb.by_code else i for i in c["item"]],
                      "group": [who(g, i) for g, i in zip(c["group"], c["item"])],
                      "published": [f"{100 * p:.0f}%" + ((" (假设)" if zh else " (assumed)") if a else "")
                                    for p, a in zip(c["published"], c["assumed"])],
                      "reproduced": [f"{100 * e:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"
                                     for e, lo, hi in zip(c["estimate"], c["ci_lower"], c["ci_upper"])],
                      "inside": [r.t("yes") if v else r.t("no") for v in c["inside"]]})
    r.columns.update({"group": ("Group", "组别"), "published": ("Paper", "论文"),
                      "reproduced": ("Reproduced, % [95% CI]", "复现，% [95% CI]"), "inside": ("In CI", "在区间内")})
    r.table(t, r.t("calibration"), "tables/calibration.csv", "calibration",
            "“假设”：论文未公布，模拟时假设。" if zh else
            "Assumed: not published in the paper; an input of the simulation.",
            ["item", "group", "published", "reproduced", "inside"])


def sensitivity(r: Report, fit: dict, zh: bool) -> None:
    """The structural paths under the study's estimator and the alternative one (sensitivity.csv)."""
    f = r.results / "model/sensitivity.csv"
    if not f.exists():
        return
    sens = pd.read_csv(f)
    ests = list(dict.fromkeys(sens["estimator"]))
    if len(ests) < 2:
        return
    main, alt = ests[0], ests[1]
    a, b = sens[sens["estimator"] == main].reset_index(drop=True), sens[sens["estimator"] == alt].reset_index(drop=True)
    if not bool(a["admissible"].iloc[0]):      # nothing to check: the solution itself is withheld
        return
    if not bool(b["admissible"].iloc[0]):
        r.add(f"敏感性检验：{alt} 的解不可接受，未作比较。" if zh else
              f"Sensitivity check: the {alt} solution is not admissible, so there is nothing to compare.")
        return
    star = lambda p: "" if pd.isna(p) else "***" if p < .001 else "**" if p < .01 else "*" if p < .05 else ""  # noqa: E731
    t = pd.DataFrame({"path": [f"{r.label(x)} → {r.label(y)}" for x, y in zip(a["rhs"], a["lhs"])],
                      "beta_main": [f"{v:.3f}{star(p)}" for v, p in zip(a["std_all"], a["pvalue"])],
                      "beta_alt": [f"{v:.3f}{star(p)}" for v, p in zip(b["std_all"], b["pvalue"])],
                      "beta_diff": (a["std_all"] - b["std_all"]).round(3)})
    r.columns["beta_main"] = (f"β {main}", f"β {main}")
    r.columns["beta_alt"] = (f"β {alt}", f"β {alt}")
    r.columns["beta_diff"] = (f"{main} − {alt}", f"{main} − {alt}")
    biggest = t.loc[t["beta_diff"].abs().idxmax()]
    what = {"WLSMV": ("the items treated as ordered categories (polychoric correlations)", "题项按有序分类（多分格相关）"),
            "MLR": ("the items treated as continuous, robust ML", "题项按连续变量，稳健 ML")}
    lead = (f"敏感性检验：同一模型以 {alt} 估计（{what.get(alt, (alt, alt))[1]}）。标准化路径差异最大者为 "
            f"{biggest['path']}（{biggest['beta_diff']:+.3f}）。" if zh else
            f"Sensitivity check: the same model estimated by {alt}, {what.get(alt, (alt, alt))[0]}. The largest "
            f"difference in a standardized path is {esc(biggest['path'])} ({biggest['beta_diff']:+.3f}).")
    r.add(lead)
    r.table(t, "敏感性检验：两种估计下的标准化路径" if zh else f"Sensitivity: standardized paths under {main} and {alt}",
            "model/sensitivity.csv", "sensitivity",
            "* p < .05，** p < .01，*** p < .001。" if zh else "* p < .05, ** p < .01, *** p < .001.",
            ["path", "beta_main", "beta_alt", "beta_diff"])


def priorities_by_type(r: Report, inv: pd.DataFrame | None, zh: bool) -> None:
    """The CSI model refitted within each respondent type (groups.py): each type's priorities."""
    folder = r.results / "model/by_respondent_type"
    if not (folder / "fit_by_group.csv").exists():
        return
    fits = pd.read_csv(folder / "fit_by_group.csv", keep_default_na=False, na_values=[""])
    ipma = pd.read_csv(folder / "ipma_by_group.csv")
    name = r.type_name
    lang = "zh" if zh else "en"
    rows, said = [], []
    for f in fits.itertuples():
        g = ipma[(ipma["group"].astype(str) == str(f.group)) & ipma["priority"].notna()]
        who = f"{name(f.group)} (n = {f.n:,})"
        if not f.admissible or g.empty:
            kind = getattr(f, "reason_kind", "")
            if zh:      # the technical reason stays in the file (English); the report says what kind it is
                why = {"data": "该类受访者的数据不足以单独估计此模型",
                       "estimation": "此估计方法无法用于该类受访者的数据，例如少数人给出的罕见答案使多分格相关系数达到边界",
                       "inadmissible": "解不可接受"}.get(kind, "重新估计未收敛")
                said.append(f"{who}：未能单独估计——{why}（详见 model/by_respondent_type/fit_by_group.csv）。")
            else:
                why = f.reason if isinstance(f.reason, str) and f.reason else "the refit did not converge"
                said.append(f"{who}: no priorities ({why})")
            continue
        for p in g.itertuples():
            rows.append({"type": who, "rank": int(p.priority), "driver": r.label(p.driver),
                         "importance": p.importance, "performance": f"{p.performance:.1f}",
                         "potential": f"{p.potential:.1f}{'*' if str(p.potential_capped) == 'True' else ''}",
                         "certainty": index.priority_phrase(p._asdict(), lang)})
    r.add("各类受访者分别重新估计同一模型，得到各自的改进优先级：" if zh else
          "The same model refitted to each respondent type alone gives each type its own priorities.")
    if rows:
        t = pd.DataFrame(rows)
        firsts = t[t["rank"] == 1]
        t.loc[t["type"].duplicated(), "type"] = ""          # each type named once, on its first row
        if t["certainty"].isna().all():
            t = t.drop(columns="certainty")
        comparable = inv is not None and invariant(inv, "metric")
        note = ("潜在提升：该类受访者中该驱动因素指数达到 100 时目标指数的预期增量。" if zh else
                "Potential gain: expected gain of the type's target index if the driver's index reached 100. ")
        note += (("测量不变性成立（见下文），各类型的数值可以相互比较。" if zh else
                  "Measurement invariance holds (below), so the types' numbers can be compared.") if comparable else
                 ("测量不变性未确认：各类型内部的排序可读，类型之间的数值不宜直接比较。" if zh else
                  "Measurement invariance is not established: read each type's ranking on its own, not the "
                  "numbers across types."))
        left = [f"{name(f.group)}: {int(f.draws_left_out)}/{int(f.draws + f.draws_left_out)}"
                for f in fits.itertuples() if f.admissible and f.draws_left_out > 0]
        if left:
            note += (" 因重新估计未收敛或解不可接受而剔除的自助样本：" if zh else
                     " Bootstrap draws left out (the refit did not converge or was not admissible): ") + \
                ", ".join(left) + ("。" if zh else ".")
        if said:
            note += " " + " ".join(said)
        r.add(("各类型的第一优先：" if zh else "First priority by type: ") + ("；" if zh else "; ").join(
            f"{esc(a)} — {esc(b)}" for a, b in zip(firsts["type"], firsts["driver"])) + ("。" if zh else "."))
        r.table(t, "分受访者类型的改进优先级" if zh else "Improvement priorities by respondent type",
                "model/by_respondent_type/ipma_by_group.csv", "priorities_type", note,
                [c for c in ("type", "rank", "driver", "importance", "performance", "potential", "certainty")
                 if c in t])
    elif said:
        r.add(esc(" ".join(said)))


def first_cause(fit: dict) -> str:
    causes = fit.get("diagnosis") or ["not converged"]
    return causes[0].split(":")[0].split(" (")[0].rstrip(".")


def abstract_findings(r: Report, idx: pd.DataFrame, ipma: pd.DataFrame, sat: str) -> str:
    ci = f"{idx.loc[sat, 'ci_lower']:.1f}–{idx.loc[sat, 'ci_upper']:.1f}"
    out = f"The {esc(r.label(sat).lower())} index is {idx.loc[sat, 'index']:.1f} (95% CI {ci}) on a 0–100 scale."
    if len(ipma):
        first = ipma.iloc[0]
        how_sure = index.priority_phrase(first)
        out += (f" The first improvement priority is {esc(r.label(first['driver']))}"
                + (f" ({esc(how_sure)})" if how_sure else "") + ": raising its index to 100 "
                f"would add an expected {first['potential']:.1f} points"
                + (" (capped: the index cannot pass 100)" if first.get("potential_capped") is True else "") + ".")
    return out


def abstract_findings_zh(r: Report, idx: pd.DataFrame, ipma: pd.DataFrame, sat: str) -> str:
    ci = f"{idx.loc[sat, 'ci_lower']:.1f}–{idx.loc[sat, 'ci_upper']:.1f}"
    out = f"{esc(r.label(sat))}指数为 {idx.loc[sat, 'index']:.1f}（95% 置信区间 {ci}，0–100 分）。"
    if len(ipma):
        first = ipma.iloc[0]
        how_sure = index.priority_phrase(first, "zh")
        out += (f"首要改进方向为{esc(r.label(first['driver']))}" + (f"（{esc(how_sure)}）" if how_sure else "")
                + f"：其指数提升至 100 预计可使{esc(r.label(sat))}提高 {first['potential']:.1f} 分。")
    return out

