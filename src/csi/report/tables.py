"""Tables both reports share: measurement invariance, latent mean differences, the league table."""

from __future__ import annotations

import re

import pandas as pd

from .. import compare
from ..invariance.ordinal import merges
from .document import Report, ci, readable


STEPS_ZH_INVARIANCE = {"configural": "形态等值", "thresholds": "阈值等值", "metric": "度量等值", "scalar": "标量等值",
                       "partial metric": "部分度量等值", "partial scalar": "部分标量等值"}


def invariance_table(r: Report, inv: pd.DataFrame, caption: str, source: str, name: str,
                     group_name=lambda g: g) -> None:
    """The invariance steps; with a robust estimator the scaled χ², robust CFI/RMSEA and their
    deltas (Satorra-Bentler 2001 scaled difference test), and the constraints a partial step freed."""
    zh = r.lang == "zh"
    ordinal = "cfi_scaled" in inv and inv["cfi_scaled"].notna().any()
    robust = "chisq_scaled" in inv and inv["chisq_scaled"].notna().any()
    kind = "scaled" if ordinal else "robust"
    cols = (["chisq_scaled", "df", f"cfi_{kind}", f"rmsea_{kind}", "srmr", f"delta_cfi_{kind}", f"delta_rmsea_{kind}"]
            if robust else ["chisq", "df", "cfi", "rmsea", "srmr", "delta_cfi", "delta_rmsea"])
    t = inv[["model", *cols, "delta_pvalue", "verdict"]].copy()
    t["delta_pvalue"] = t["delta_pvalue"].map(lambda p: None if pd.isna(p) else "< .001" if p < .001 else f"{p:.3f}")
    t["verdict"] = t["verdict"].map(verdict_zh if zh else lambda v: v.split(" (")[0].split(":")[0])
    if zh:
        t["model"] = t["model"].map(lambda m: STEPS_ZH_INVARIANCE.get(m, m))
    keys = ["model", "chisq", "df", "cfi", "rmsea", "srmr", "dcfi", "drmsea", "dp", "verdict"]
    if "freed" in inv and inv["freed"].notna().any():
        t["freed"] = inv["freed"].fillna("")
        keys.append("freed")
    note = ("ΔCFI ≥ −.010 且 ΔRMSEA ≤ .015 时视为不变（Cheung & Rensvold, 2002；Chen, 2007）。" if zh else
            "Invariance holds when ΔCFI ≥ −.010 and ΔRMSEA ≤ .015 (Cheung & Rensvold, 2002; Chen, 2007).")
    if ordinal:
        note += (" 有序题项（WLSMV，Wu & Estabrook, 2016 识别）：依次约束阈值、载荷、截距；χ²、CFI、RMSEA 为均值方差校正"
                 "（scaled-shifted）版本；Δχ² 检验为 Satorra (2000) 差异检验。" if zh else
                 " Ordered items (WLSMV, identified as Wu & Estabrook, 2016): thresholds, then loadings, then "
                 "intercepts are constrained equal; χ², CFI and RMSEA are the scaled-shifted versions; p(Δχ²) "
                 "from the Satorra (2000) difference test.")
        found = merges(inv["note"].iloc[0]) if "note" in inv else []
        found = [(i, v, t_, ("、" if zh else ", ").join(group_name(x) for x in re.findall(r"'([^']*)'", g)) or g)
                 for i, v, t_, g in found]      # the groups as the report names them, not their codes
        if found:
            if zh:
                note += " 为使阈值可比而合并的类别：" + "；".join(
                    f"{r.label(i.strip())}的答案 {v} 计为 {t_}（组 {g} 无人回答 {v}）" for i, v, t_, g in found) + "。"
            else:
                note += " Categories merged so that thresholds are comparable: " + "; ".join(
                    f"{r.label(i.strip())}: answers {v} counted as {t_} (no answer {v} in group {g})"
                    for i, v, t_, g in found) + "."
    elif robust:
        note += (" χ² 为校正 χ²，CFI、RMSEA 为稳健版本；Δχ² 检验为 Satorra–Bentler (2001) 校正差异检验。" if zh else
                 " χ² is the scaled χ², CFI and RMSEA their robust versions; p(Δχ²) from the Satorra–Bentler "
                 "(2001) scaled difference test.")
    if not ordinal and "note" in inv and isinstance(inv["note"].iloc[0], str) and inv["note"].iloc[0]:
        note += " " + inv["note"].iloc[0] + "."
    if "freed" in keys:
        note += (" 部分不变性：依次释放得分检验统计量最大的等值约束，直至该步成立。" if zh else
                 " Partial invariance: the equality constraint with the largest score test is freed, one at a "
                 "time, until the step holds.")
    r.table(t, caption, source, name, note, keys)


def latent_means_table(r: Report, means: pd.DataFrame, caption: str, source: str, name: str,
                        group_name=readable) -> None:
    """Latent mean differences (group minus the reference group) from the (partial) scalar model."""
    zh = r.lang == "zh"
    m = means[means["comparable"].astype(str) == "True"] if "comparable" in means else means
    if m.empty:
        r.add("标量不变性（含部分不变性）不成立：不比较潜变量均值。" if zh else
              "Neither full nor partial scalar invariance holds: latent means are not compared.")
        return
    t = pd.DataFrame({"construct": m["factor"].map(r.label), "group": m["group"].map(group_name),
                      "reference": m["reference"].map(group_name), "diff": m["est"], "se": m["se"],
                      "ci": [ci(lo, hi) for lo, hi in zip(m["ci_lower"], m["ci_upper"])],
                      "p": m["pvalue"].map(lambda p: "< .001" if p < .001 else f"{p:.3f}")})
    model = m["model"].iloc[0]
    ordinal = "estimator" in m and m["estimator"].iloc[0] == "WLSMV"
    unit = (("差异以参照组潜变量标准差为单位。" if zh else
             "differences are in standard deviations of the reference group's latent variable.") if ordinal else
            ("差异以各维度标记题项（第一个题项）的量表单位表示。" if zh else
             "differences are in the scale units of each construct's marker (first) item."))
    r.table(t, caption, source, name,
            (f"来自{'部分' if 'partial' in model else ''}标量不变模型；参照组潜变量均值固定为 0；" + unit if zh else
             f"From the {model} model; the reference group's latent means are fixed at 0; " + unit),
            ["construct", "group", "reference", "diff", "se", "ci", "p"])


def verdict_zh(v: str) -> str:
    if v.startswith("baseline"):
        return "基线模型"
    partial = v.startswith("partial ")
    step = v.split()[1 if partial else 0]
    kind = ("部分" if partial else "") + {"metric": "度量不变性", "scalar": "标量不变性",
                                         "thresholds": "阈值不变性"}.get(step.rstrip(":"), step)
    if v.startswith("cannot be judged"):
        return "无法判断（模型未收敛或解不可接受）"
    if "no testable constraint" in v:
        return "无可检验的约束（与上一模型等价）"
    if "does NOT hold" in v:
        return f"{kind}不成立"
    return f"{kind}{'仅按 ΔCFI 成立，需谨慎' if 'but not by' in v else '成立'}"


def comparability_zh(note: str) -> str:
    """compare.comparability()'s note in Chinese."""
    if note.startswith("scalar invariance holds"):
        return "区县间标量不变性成立：指数与潜变量均值可以比较"
    if note.startswith("NOT comparable: invariance cannot be judged"):
        return "不可比较：测量不变性无法判断（模型未收敛或解不可接受）"
    for key, zh in (("thresholds", "各区县的题项阈值不同（阈值不变性不成立），同一答案在不同区县含义不同"),
                    ("loadings", "各区县的因子载荷不同（度量不变性不成立），潜变量的测量方式不同"),
                    ("intercepts", "各区县的题项截距不同（标量不变性不成立），指数差异混杂了作答方式的差异；请改为比较单个指标")):
        if key in note:
            return f"不可比较：{zh}"
    return note


def league_table(r: "Report", s: pd.DataFrame) -> pd.DataFrame:
    """Rank, district, index, CI and — with bootstrap draws — how often the rank held (league.csv rows
    of one construct); its columns are COLUMNS keys."""
    t = pd.DataFrame({"place": s["rank"], "district": s["name"],
                      "index": s["index"].map(lambda v: f"{v:.1f}" if pd.notna(v) else r.t("withheld")),
                      "ci": [f"[{lo:.1f}, {hi:.1f}]" if pd.notna(lo) else "–"
                             for lo, hi in zip(s["ci_lower"], s["ci_upper"])]})
    if "p_rank" in s and s["p_rank"].notna().any():
        t["certainty"] = [compare.league_phrase(row, r.lang) for _, row in s.iterrows()]
    return t


def invariant(inv: pd.DataFrame, level: str = "scalar") -> bool:
    """As the comparison judges it (csi.compare): fails only where a verdict says it does not hold."""
    steps = ["thresholds", "metric", level]
    return not inv.loc[inv["model"].isin(steps), "verdict"].str.contains("does NOT hold|cannot be judged").any()



def renamed(frame: pd.DataFrame, names: dict | None, key: str = "district", col: str = "name") -> pd.DataFrame:
    """A computed table's display names replaced by the report's own (its language), by district key."""
    if not names or key not in frame or col not in frame:
        return frame
    return frame.assign(**{col: frame[key].map(names).fillna(frame[col])})
