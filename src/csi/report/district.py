"""The district report: data and method, results, the rating stream, limitations."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pandas as pd

from .. import index, methods
from ..codebook import Codebook
from ..errors import CSIError
from . import evaluations as report_evaluations, summary
from .document import CUTOFFS, Report, apa, fmt, STEPS_EN, STEPS_ZH, VERDICTS_ZH, ci, cite, esc, is_simulated, pct_ci, readable
from .sections import abstract_findings, abstract_findings_zh, calibration, first_cause, gaps, multiple_choice, priorities_by_type, rules_text, sensitivity
from .tables import comparability_zh, invariance_table, invariant, latent_means_table, league_table, renamed


def why_not_zh(step: dict, flow: dict) -> str:
    """Why a cleaning step did not apply, in Chinese (clean.not_applicable gives the English)."""
    if step["step"] == "speeder":
        return "导出数据没有作答时长列"
    if step["step"] == "attention_check":
        return "问卷没有注意力检测题"
    if step["step"] == "straight_liner":
        rule = flow.get("rules", {}).get("straightlining", {})
        need = "且含反向题" if rule.get("require_reversed") else ""
        return (f"没有至少 {rule.get('min_items', '?')} 个题项{need}的矩阵题（codebook `battery:`），"
                "一致作答无法与真实作答区分")
    return esc(step["why_not"])


def district(results, out, cb: Codebook, title: str, config: dict, timestamp: int = 0) -> Path:
    """The district report. config: seed, satisfaction, language, min_cell, frame, fieldwork,
    comparison (the comparison's results folder, if this district is compared)."""
    lang = config.get("language", "en")
    r = Report(results, out, title, lang, cb, config.get("min_cell", 10))
    k = r.min_cell
    zh = lang == "zh"
    flow = r.read_json("data/flow.json")
    fit = r.read_json("model/fit.json")
    idx = r.read_csv("model/index.csv").set_index("construct")
    ipma = r.read_csv("model/ipma.csv")
    rel = r.read_csv("tables/reliability.csv")
    top = r.read_csv("tables/top_box.csv")
    verdicts = r.read_csv("tables/htmt_verdicts.csv")
    inv_path = r.results / "model/invariance_respondent_type/invariance.csv"
    inv = pd.read_csv(inv_path) if inv_path.exists() else None
    sat = config["satisfaction"]
    if sat not in idx.index:
        raise CSIError(f"the satisfaction construct {sat!r} is not in the results", file=r.results / "model/index.csv",
                       hint=f"give --satisfaction one of: {', '.join(idx.index)} (config: `satisfaction:`).")
    simulated = is_simulated(title)
    B = fit.get("bootstrap", {}).get("B", 0)
    good_fit = methods.value(fit, "cfi") >= .95 and methods.value(fit, "rmsea") <= .06
    admissible = bool(fit["admissible"])
    cfa_fit = r.read_json("model/cfa/fit.json")
    read = (r.read_json("data/validation.json") if (r.results / "data/validation.json").exists() else {}).get("read", {})
    subject = cb.subject[lang]
    applied = [s_ for s_ in flow["steps"] if s_.get("applied", True)]
    skipped = [s_ for s_ in flow["steps"] if not s_.get("applied", True)]

    r.title_block(f"{esc(title)}{'：' if zh else ': '}{esc(subject)}", r.t("byline", seed=config["seed"], B=B))
    sim = r.t("simulated") if simulated else ""
    fit_txt = (f"{'robust ' if methods.robust(fit) else ''}CFI = {apa(methods.value(fit, 'cfi'))}, "
               f"RMSEA = {apa(methods.value(fit, 'rmsea'))}, SRMR = {apa(fit['srmr'])}")
    removed = [(s_["excluded"], s_["step"]) for s_ in applied if s_["excluded"]]
    if zh:
        gone = "、".join(f"{STEPS_ZH[st]} {n} 份" for n, st in removed) or "无"
        head = (f"*{r.t('abstract')}* " + ("" if admissible else
                f"*顾客满意度指数模型的解不可接受*（{esc(first_cause(fit))}），因此不报告指数、改进优先级与置信区间；"
                "以下结果仅供诊断。") + sim)
        r.add(f"{head}共回收问卷 {flow['raw_rows']:,} 份，剔除 {gone} 后保留 {flow['kept']:,} 份。"
              f"顾客满意度指数结构方程模型（{methods.short_name(fit, True)}）{'拟合良好' if good_fit else '拟合存在保留'}（{fit_txt}）。"
              + (abstract_findings_zh(r, idx, ipma, sat) if admissible else ""))
    else:
        gone = (", ".join(f"{n:,} {STEPS_EN[st][0] if n != 1 else STEPS_EN[st][1]}" for n, st in removed)
                or "none")
        head = (f"*{r.t('abstract')}.* " + ("" if admissible else
                f"*The solution of the CSI model is NOT admissible* ({esc(first_cause(fit))}), so its indices, "
                "priorities and confidence intervals are withheld; what follows is diagnosis, not findings. ") + sim)
        r.add(f"{head}Of {flow['raw_rows']:,} submitted questionnaires, {flow['kept']:,} were kept (removed: "
              f"{gone}). A customer-satisfaction-index structural equation model, estimated by {methods.short_name(fit)}, "
              f"fits {'well' if good_fit else 'with reservations'} ({fit_txt}). "
              + (abstract_findings(r, idx, ipma, sat) if admissible else ""))

    summary.section(r, config, admissible, idx, ipma, top)

    # --- data and method -------------------------------------------------------------------
    r.heading("data_method")
    frame, dates = config.get("frame") or "–", config.get("fieldwork") or "–"
    extra_rows = [(len(read.get(k_, {})), k_) for k_ in ("rows_above_header", "blank_rows", "footer_rows")
                  if read.get(k_)]
    if zh:
        rows_zh = {"rows_above_header": "表头上方的标题行", "blank_rows": "空行", "footer_rows": "末尾的合计/说明行"}
        more = "；另有" + "、".join(f"{rows_zh[k_]} {n} 行" for n, k_ in extra_rows) + "（非作答，未计入）" if extra_rows else ""
        r.add(f"抽样框：{esc(frame)}。调查时间：{esc(dates)}。原始数据：`{flow['raw_file']}`（{flow['raw_rows']:,} 份作答"
              f"{more}；SHA-256 `{flow['raw_sha256'][:16]}…`）。剔除规则依次执行，每份问卷只在其首次未通过的规则处计数；"
              f"{flow['cells_set_missing']} 个无效答案代码或缺失值文字被设为缺失。{rules_text(flow, True)}")
        if skipped:
            r.add("不适用的剔除步骤：" + "；".join(f"{STEPS_ZH[s_['step']]}（{why_not_zh(s_, flow)}）" for s_ in skipped) + "。")
    else:
        rows_en = {"rows_above_header": "title row(s) above the header", "blank_rows": "blank row(s)",
                   "footer_rows": "totals or note row(s) at the end"}
        more = ("; not responses, left out: " + ", ".join(f"{n} {rows_en[k_]}" for n, k_ in extra_rows)
                if extra_rows else "")
        r.add(f"Sampling frame: {esc(frame)}. Fieldwork: {esc(dates)}. Raw export: `{flow['raw_file']}` "
              f"({flow['raw_rows']:,} response rows{more}; SHA-256 `{flow['raw_sha256'][:16]}…`). Exclusion rules "
              f"were applied in order; each row counts once, at the first rule it fails. {flow['cells_set_missing']} "
              f"stray answer codes or missing-value words were set to missing. {rules_text(flow, False)}")
        if skipped:
            r.add("Steps that did not apply: " + "; ".join(
                f"{STEPS_EN[s_['step']][0]} ({esc(s_['why_not'])})" for s_ in skipped) + ".")
    steps = pd.DataFrame(applied)[["step", "excluded", "remaining"]]
    steps["step"] = steps["step"].map(lambda v: STEPS_ZH.get(v, v) if zh else STEPS_EN.get(v, (v,))[0].capitalize())
    r.table(steps, "排除流程" if zh else "Exclusion flow", "data/flow.json", "flow",
            columns=["step", "excluded", "remaining"])
    dims = "、".join if zh else ", ".join
    dims = dims(f"{esc(v['label'][lang])} ({len(cb.construct_items(c))})" for c, v in cb.constructs.items())
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("semopy", "pandas", "statsmodels", "snakemake"))
    based = "; ".join(cite(x) for x in cb.references)
    notes = ("" if zh else " ").join(esc(x) for x in fit.get("notes_zh" if zh else "notes", fit.get("notes", [])))
    if zh:
        r.add(f"问卷：{esc(cb.title[lang])}{f'（依据 {esc(based)}）' if based else ''}；维度（题项数）：{dims}。"
              f"{methods.estimation(fit, True)}"
              f"路径、效应与指数的置信区间来自非参数自助法（B = {B}，百分位法）；指数按 ACSI 方法换算为 0–100 分"
              f"（Fornell et al., 1996）。随机种子 {config['seed']}。软件：csi {metadata.version('csi')}，{versions}。{notes}")
    else:
        r.add(f"Questionnaire: {esc(cb.title[lang])}{f' (after {esc(based)})' if based else ''}; dimensions (items): "
              f"{dims}. {methods.estimation(fit)} Confidence intervals of paths, effects and indices come from a nonparametric "
              f"bootstrap (B = {B}, percentile); indices on a 0–100 scale as in the ACSI (Fornell et al., 1996). "
              f"Seed {config['seed']}. Software: csi {metadata.version('csi')}, {versions}. {notes}")

    # --- results -----------------------------------------------------------------------------
    r.heading("results")
    r.heading("profile", 2)
    prof = r.read_csv("tables/profile.csv")
    if prof.empty:
        r.add("问卷没有受访者类型或人口统计题目。" if zh else
              "The questionnaire has no respondent-type or demographic questions.")
    else:
        t = pd.DataFrame({"variable": [r.label(v) for v in prof["variable"]],
                          "category": prof["label_zh"] if zh else prof["value"].map(readable),
                          "n": prof["n"], "share": prof["share"].map(lambda v: f"{100 * v:.1f}")})
        t = r.suppress(t, "n", ["share"])
        t = r.complement(t, [[(i, "n", ["share"]) for i in rows] for rows in t.groupby("variable").groups.values()])
        r.table(t, "样本构成" if zh else "Sample profile", "tables/profile.csv", "profile",
                r.t("suppressed", k=k), ["variable", "category", "n", "share"])

    levels = [c[len("rate_"):] for c in top.columns if c.startswith("rate_")]
    r.heading("rates" if levels else "rates_all", 2)
    t = pd.DataFrame({"item": top["item"].map(r.label), "n": top["n"],
                      "all": [pct_ci(*v) for v in top[["rate", "ci_lower", "ci_upper"]].itertuples(index=False)]})
    t = r.suppress(t, "n", ["all"])
    cols = ["item", "n", "all"]
    names = {}
    for g in levels:
        names[g] = name = r.type_name(g)
        t[f"n_{g}"] = top[f"n_{g}"]
        t[g] = [pct_ci(*v) for v in top[[f"rate_{g}", f"ci_lower_{g}", f"ci_upper_{g}"]].itertuples(index=False)]
        t = r.suppress(t, f"n_{g}", [g])
        r.columns[f"n_{g}"], r.columns[g] = (f"n ({name})", f"n（{name}）"), (f"{name}, %", f"{name}，%")
        cols += [f"n_{g}", g]
    t = r.complement(t, [[(i, f"n_{g}", [g]) for g in levels] for i in t.index])  # overall n is shown
    t = t[cols]
    note = (f"Top-box share (satisfied or better) with Wilson 95% CIs. {r.t('suppressed', k=k)}"
            if not zh else f"满意率（满意及以上）及 Wilson 95% 置信区间。{r.t('suppressed', k=k)}")
    r.table(t, r.t("rates" if levels else "rates_all"), "tables/top_box.csv",
            "top_box", note, cols)
    if "p_value" in top and len(levels) == 2:
        gaps(r, top, levels, names, zh)
    r.figure("figures/top_box_by_type.png", f"{r.t('rates' if levels else 'rates_all')} (Wilson 95% CI).",
             "top")
    multiple_choice(r, cb, levels, zh)
    calibration(r, zh)

    r.heading("reliability", 2)
    if not cfa_fit["admissible"]:
        r.add(("测量模型（验证性因子分析）的解不可接受，ω、AVE 不予报告：" if zh else
               "The measurement model (CFA) is NOT admissible, so ω and AVE are withheld: ")
              + " ".join(esc(x) for x in cfa_fit.get("diagnosis", [])))
    t = rel[["construct", "items", "alpha", "omega", "ave"]].copy()
    t["construct"] = t["construct"].map(r.label)
    oks = rel[["alpha_ok", "omega_ok", "ave_ok"]].astype(object)
    failing = [[name for name, ok in zip(("α", "ω", "AVE"), row) if ok is False or ok == "False"]
               for row in oks.itertuples(index=False)]
    t["verdict"] = [("单题项：无信度估计" if zh else "single item: no reliability estimate") if n == 1 else
                    ("低于标准：" if zh else "below cutoff: ") + ", ".join(f) if f else
                    ("不予报告" if zh else "withheld") if not cfa_fit["admissible"] else
                    ("达标" if zh else "meets cutoffs") for n, f in zip(rel["items"], failing)]
    r.table(t, "信度与聚合效度" if zh else "Reliability and convergent validity", "tables/reliability.csv",
            "reliability", "α、ω ≥ .70，AVE ≥ .50（Fornell & Larcker, 1981）。" if zh else
            "Cutoffs: α and ω ≥ .70, AVE ≥ .50 (Fornell & Larcker, 1981).",
            ["construct", "items", "alpha", "omega", "ave", "verdict"])
    t = verdicts[["construct_a", "construct_b", "htmt", "htmt2", "verdict"]].copy()
    t.insert(0, "pair", [f"{r.label(a)} – {r.label(b)}" for a, b in zip(t["construct_a"], t["construct_b"])])
    t = t.drop(columns=["construct_a", "construct_b"])
    if zh:
        t["verdict"] = t["verdict"].map(lambda v: VERDICTS_ZH.get(v.split(" (")[0], v))
    r.table(t, "区分效度（HTMT）" if zh else "Discriminant validity (HTMT)", "tables/htmt_verdicts.csv", "htmt",
            "HTMT < .85 区分效度良好，< .90 临界（Henseler 等, 2015）。" if zh else
            "Distinct below .85, borderline below .90 (Henseler et al., 2015).",
            ["pair", "htmt", "htmt2", "verdict"])

    r.heading("fit", 2)
    rob = methods.robust(fit)
    src = "Savalei, 2021" if fit.get("estimator") == "WLSMV" else "Brosseau-Liard & Savalei, 2014"
    bounded = (lambda k_, v: fmt(v) if k_ == "tli" else apa(v))      # TLI can exceed 1: leading zero kept
    ft = pd.DataFrame([{"measure": k_.upper(), "value": bounded(k_, methods.value(fit, k_)), "ml": bounded(k_, fit[k_]),
                        "cutoff": f"{'≥' if op == '>=' else '≤'} {v:.2f}" if k_ == "tli" else
                                  f"{'≥' if op == '>=' else '≤'} {apa(f'{v:.2f}')}",
                        "met": r.t("yes") if (methods.value(fit, k_) >= v if op == ">=" else methods.value(fit, k_) <= v)
                        else r.t("no")} for k_, (op, v) in CUTOFFS.items()])
    r.columns["ml"] = (("unadjusted (DWLS)", "未校正（DWLS）") if fit.get("estimator") == "WLSMV"
                       else ("normal-theory ML", "正态理论 ML"))
    note = ("Hu & Bentler (1999)。" if zh else "Cutoffs after Hu & Bentler (1999).") + (
        ("稳健 CFI、TLI、RMSEA（" + src + "）；SRMR 无稳健版本。" if zh else
         f" CFI, TLI and RMSEA are their robust versions ({src}); SRMR has none.")
        if rob else "")
    cols = ["measure", "value"] + (["ml"] if rob else []) + ["cutoff", "met"]
    r.table(ft[cols], f"{'模型拟合' if zh else 'Fit of the CSI model'} ({methods.fit_caption_chisq(fit)})",
            "model/fit.json", "fit", note, cols)

    r.heading("paths", 2)
    boot = r.read_csv("model/bootstrap.csv")
    est = r.read_csv("model/estimates.csv")
    paths = boot[boot["op"] == "~"].copy()
    resid = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])].set_index("lhs")["std_all"]
    r2 = (1 - paths["lhs"].map(resid)).where(lambda v: v.between(0, 1))   # an impossible R² is not printed
    t = pd.DataFrame({"outcome": paths["lhs"].map(r.label), "predictor": paths["rhs"].map(r.label),
                      "b": paths["est"], "ci": [ci(lo, hi) if pd.notna(lo) else r.t("withheld")
                                                for lo, hi in zip(paths["ci_lower"], paths["ci_upper"])],
                      "beta": paths["std_all"], "r2": r2 if admissible else None})
    t.loc[t["outcome"].duplicated(), "r2"] = None
    if admissible:
        r.table(t, "结构路径（自助法 95% 置信区间）" if zh else "Structural paths with bootstrap 95% CIs",
                "model/bootstrap.csv, model/estimates.csv", "paths",
                "R² = 1 − 标准化残差方差。" if zh else "R² = 1 − standardized residual variance of the outcome.",
                ["outcome", "predictor", "b", "ci", "beta", "r2"])
    else:
        r.table(t.drop(columns=["ci", "r2"]), "结构路径：解不可接受，不可解释" if zh else
                "Structural paths of an IMPROPER solution: not interpretable", "model/estimates.csv", "paths",
                "仅供诊断：解不可接受，不报告置信区间、显著性与 R²。" if zh else
                "Shown for diagnosis only: the solution is not admissible, so no confidence intervals, "
                "significance or R² are reported.", ["outcome", "predictor", "b", "beta"])
    r.figure("figures/path_diagram.png", "标准化路径系数。" if zh else "Standardized path coefficients.", "path")
    sensitivity(r, fit, zh)
    if admissible:
        t = idx.reset_index()
        t = pd.DataFrame({"construct": t["construct"].map(r.label), "index": t["index"].map("{:.1f}".format),
                          "ci": [f"[{lo:.1f}, {hi:.1f}]" for lo, hi in zip(t["ci_lower"], t["ci_upper"])]})
        r.table(t, "满意度指数（0–100）" if zh else "CSI indices (0–100) with bootstrap 95% CIs", "model/index.csv",
                "index", columns=["construct", "index", "ci"])
    else:
        r.add("指数不予报告：解不可接受。" if zh else
              "CSI indices are withheld: they would be computed from an improper solution.")

    r.heading("ipma", 2)
    if not admissible:
        r.add("重要性—绩效分析与改进优先级不予报告：解不可接受。请先按上文诊断修正模型。" if zh else
              "The importance–performance map and the improvement priorities are withheld: they would rest on an "
              "improper solution. Respecify the model as the diagnosis above suggests, then rerun.")
    elif ipma.empty:
        r.add("模型中没有指向该结果的驱动因素（codebook 中 `kind: driver`）。" if zh else
              "No driver construct (codebook `kind: driver`) has a path to the target, so there is no "
              "importance–performance map.")
    else:
        r.figure("figures/ipma.png", "重要性—绩效矩阵（Ringle & Sarstedt, 2016）。虚线连接潜在提升相等的点，括号内为潜在提升；"
                 "优先级按潜在提升排序，而非按均值划分的象限。" if zh else
                 "Importance–performance map (Ringle & Sarstedt, 2016). Dashed curves join points of equal potential "
                 "gain (in brackets); the priorities follow the potential gain, not quadrants at the means.",
                 "ipma", "70%")
        prio = r.read_csv("model/priorities.csv")
        label_col = "label_zh" if zh else "label_en"
        lowest = prio.sort_values(["priority", "item_index"]).groupby("driver")[label_col].apply(
            lambda s: ("、" if zh else "; ").join(s.head(2)))
        capped = ipma.get("potential_capped", pd.Series(False, index=ipma.index)).fillna(False).astype(bool)
        t = pd.DataFrame({"rank": ipma["priority"], "driver": ipma["driver"].map(r.label),
                          "importance": ipma["importance"], "performance": ipma["performance"].map("{:.1f}".format),
                          "potential": [f"{v:.1f}{'*' if c else ''}" for v, c in zip(ipma["potential"], capped)],
                          "certainty": index.priority_phrases(ipma, lang).to_numpy(),
                          "lowest": ipma["driver"].map(lowest)})
        ranks_file = r.results / "model/priority_ranks.csv"
        pr = pd.read_csv(ranks_file) if ranks_file.exists() else pd.DataFrame()
        if t["certainty"].isna().all():
            t = t.drop(columns="certainty")
        draws = (" " + index.draws_note(int(pr["draws"].iloc[0]), int(pr["left_out"].iloc[0]), lang)
                 if len(pr) and "certainty" in t else "")
        cap_note = ((" * 已按目标指数可达上限截断。" if zh else " * Capped at what the target index can still gain.")
                    if capped.any() else "") + draws
        r.table(t, "改进优先级" if zh else "Improvement priorities", "model/ipma.csv, model/priorities.csv",
                "priorities", ("潜在提升：该驱动因素指数达到 100 时目标指数的预期增量。" if zh else
                               "Potential gain: expected gain of the target index if the driver's index reached "
                               "100; lowest indicators: the driver's two indicators with the lowest index.")
                + cap_note, [c for c in ("rank", "driver", "importance", "performance", "potential", "certainty",
                                         "lowest") if c in t])
        priorities_by_type(r, inv, zh)

    comparison = config.get("comparison")
    if inv is not None or comparison:
        r.heading("invariance", 2)
    if inv is not None:
        invariance_table(r, inv, "按受访者类型的测量不变性" if zh else "Measurement invariance by respondent type",
                         "model/invariance_respondent_type/invariance.csv", "invariance_type", r.type_name)
        means_path = r.results / "model/invariance_respondent_type/latent_means.csv"
        if means_path.exists():
            latent_means_table(r, pd.read_csv(means_path),
                                "受访者类型间的潜变量均值差异" if zh else "Latent mean differences between respondent types",
                                "model/invariance_respondent_type/latent_means.csv", "latent_means_type",
                                r.type_name)
    if comparison:
        comp = Path(comparison)
        league = renamed(pd.read_csv(comp / "tables/league.csv"), config.get("names"))
        league = league[league["construct"] == sat]
        t = league_table(r, league)
        r.heading("league", 2)
        r.table(t, f"{'满意度指数区县比较' if zh else 'Satisfaction index by district'}",
                "comparison/tables/league.csv", "league",
                esc(comparability_zh(league["note"].iloc[0]) + "。" if zh else league["note"].iloc[0] + "."),
                list(t.columns))

    r.fieldwork = config.get("fieldwork")    # the survey's period, in the report's language
    report_evaluations.section(r)   # the rating stream (好差评), where results/<district>/evaluations/ exists
    summary.recommendations(r, config, admissible, ipma, top)

    # --- limitations ---------------------------------------------------------------------------
    r.heading("limitations")
    limits = [esc(w) for w in fit.get("diagnosis", []) + fit["warnings"]]
    boot = fit.get("bootstrap") or {}
    bad = boot.get("inadmissible", 0) + boot.get("not_converged", 0)
    if admissible and boot.get("drawn") and bad >= 0.05 * boot["drawn"]:     # unstable under resampling
        share = f"{100 * bad / boot['drawn']:.0f}%"
        limits.append(f"{bad} 次自助抽样（{share}）的重新估计未收敛或解不可接受：模型在重抽样下不稳定；指数、重要性与优先级"
                      "只用可接受的重新估计，其置信区间可能偏窄。" if zh else
                      f"{bad} of {boot['drawn']} bootstrap refits ({share}) did not converge or were not admissible: "
                      "the model is unstable under resampling (often rare answers or items near the ceiling). "
                      "Indices, importances and priorities use the admissible refits only, so their intervals may "
                      "be too narrow.")
    if not admissible:
        limits.append("解不可接受（见上）：不应直接解释估计值。" if zh else
                      "The solution is not admissible (see above): do not interpret the estimates as they are.")
    if not cfa_fit["admissible"]:
        limits += [("测量模型：" if zh else "Measurement model: ") + esc(w) for w in cfa_fit.get("diagnosis", [])]
    limits += [("测量模型：" if zh else "Measurement model: ") + esc(w) for w in cfa_fit.get("warnings", [])
               if w not in fit["warnings"]]
    weak = rel[(rel["ave_ok"].astype(str) == "False") | (rel["alpha_ok"].astype(str) == "False")]
    weak = weak["construct"].map(r.label).tolist()
    if weak:
        limits.append(f"{'信度或聚合效度偏弱' if zh else 'Weak reliability or convergent validity for'}: "
                      f"{esc(', '.join(weak))}.")
    failed = verdicts[~verdicts["verdict"].isin(["distinct"]) & verdicts["htmt"].notna()]
    if len(failed):
        pairs = ", ".join(f"{r.label(a)}–{r.label(b)}" for a, b in zip(failed["construct_a"], failed["construct_b"]))
        limits.append(f"{'区分效度不足或临界' if zh else 'Discriminant validity fails or is borderline for'}: "
                      f"{esc(pairs)}.")
    if inv is not None and not invariant(inv):
        limits.append("不同类型受访者间标量不变性不成立：其满意率与指数不宜直接比较。" if zh else
                      "Scalar invariance does not hold between respondent types: compare their rates and "
                      "indices with caution.")
    if r.suppressed:
        limits.append(f"{r.suppressed} 个小样本单元格（n < {k}）未公布。" if zh else
                      f"{r.suppressed} small subgroup cell(s) (n < {k}) are suppressed in the tables.")
    small = [g for g in levels if top[f"n_{g}"].max() < 30]
    if small:
        limits.append(f"{'子组样本量小' if zh else 'Small subgroup n'} (< 30): {esc(', '.join(small))}.")
    if simulated:
        limits.append("数据为模拟数据；数值仅用于演示方法。" if zh else
                      "The data are simulated; the numbers illustrate the method, not a real district.")
    limits += [esc(x) for x in methods.design_limitations(config.get("frame"), bool(levels), zh)]
    r.add("\n".join(f"- {x}" for x in limits) or r.t("none_flagged"))
    r.references(cb.references)
    return r.write(timestamp)

