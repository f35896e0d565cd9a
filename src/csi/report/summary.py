"""What a manager reads first: the executive summary, the definitions behind its numbers, and the
recommendations of a district report. Everything comes from the result files (index.csv,
ipma.csv, priorities.csv, top_box.csv); nothing is estimated here.

- summary: the target index with its CI and what it is not (a share of satisfied respondents);
  the target's overall item as a share satisfied; the lowest-rated service indicators; what to
  improve first with how often it came first across bootstrap draws; the largest gap between
  respondent types (Holm-adjusted p < .05); each respondent type's first priority (groups.py);
- definitions: "satisfied" per scale from the codebook's top box, the index, IPMA importance and
  the potential gain;
- recommendations: per leading priority, its indicators with the lowest share satisfied; with an
  admissible model only (an inadmissible solution is no basis for priorities).
"""

from __future__ import annotations

import pandas as pd

from .. import index

WEAKEST = 3          # indicators named in the summary
PER_DRIVER = 2       # indicators named per recommended driver
RECOMMENDED = 2      # leading priorities with a recommendation


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def _rate(row, zh: bool) -> str:
    return (f"{_pct(row['rate'])}（95% CI {100 * row['ci_lower']:.1f}–{100 * row['ci_upper']:.1f}）" if zh else
            f"{_pct(row['rate'])} (95% CI {100 * row['ci_lower']:.1f}–{100 * row['ci_upper']:.1f})")


def service_items(top: pd.DataFrame, drivers: list[str]) -> pd.DataFrame:
    """The drivers' indicators, lowest share satisfied first (ties: codebook order)."""
    t = top[top["construct"].isin(drivers)].copy()
    t["order"] = range(len(t))
    return t.sort_values(["rate", "order"], kind="stable")


def satisfied_rule(r, items: list[str]) -> str:
    """'satisfied' per kind of scale (range and top box), with the answers' labels; where the top
    box takes in the middle answer, says so and names the items."""
    zh = r.lang == "zh"
    groups: dict[tuple, list[str]] = {}
    for item in items:
        sc = r.cb.scale_of(item)
        groups.setdefault((sc.min, sc.max, tuple(sorted(sc.top_box))), []).append(item)
    parts = []
    for (lo, hi, box), its in groups.items():
        sc = r.cb.scale_of(its[0])
        lang = "zh" if zh else "en"
        labels = ("、" if zh else " or ").join(f"“{sc.label_of(v, lang)}”" if zh else f"‘{sc.label_of(v, lang)}’"
                                                for v in sorted(box, reverse=True))
        several = len({r.cb.scale_of(i).name for i in its}) > 1
        answers = f"{box[0]}–{box[-1]}" if len(box) > 1 else str(box[0])
        text = (f"{lo}–{hi} 分题项答 {answers}（{'如' if several else ''}{labels}）" if zh else
                f"{answers} on the {lo}–{hi} items ({'e.g. ' if several else ''}{labels})")
        middle = (lo + hi) / 2
        if (hi - lo) % 2 == 0 and box[0] <= middle:
            mid = sc.label_of(int(middle), lang)
            names = ("、" if zh else ", ").join(r.label(i) for i in its)
            text += (f"——包括中间答案“{mid}”（{names}），因此这些题项的满意率偏高" if zh else
                     f" — which counts the middle answer ‘{mid}’ as satisfied ({names}), so their rates run high")
        parts.append(text)
    return ("；" if zh else "; ").join(parts)


def section(r, config: dict, admissible: bool, idx: pd.DataFrame, ipma: pd.DataFrame, top: pd.DataFrame) -> None:
    """The executive summary (after the abstract) and its definitions, from index.csv (indexed by
    construct), ipma.csv and top_box.csv as the report read them."""
    zh = r.lang == "zh"
    sat = config["satisfaction"]
    drivers = list(ipma["driver"]) if len(ipma) else [c for c, v in r.cb.constructs.items()
                                                       if v.get("kind") == "driver"]
    points = []
    own = top[top["construct"] == sat]
    if admissible and sat in idx.index:
        i = idx.loc[sat]
        ci = f"{i['ci_lower']:.1f}–{i['ci_upper']:.1f}"
        if zh:
            s = f"{r.label(sat)}指数为 {i['index']:.1f}（0–100，95% CI {ci}）"
            if len(own):
                s += f"；{_pct(own.iloc[0]['rate'])} 的受访者对“{r.label(own.iloc[0]['item'])}”表示满意"
            points.append(s + "。")
        else:
            s = f"The {r.label(sat).lower()} index is {i['index']:.1f} out of 100 (95% CI {ci})"
            if len(own):
                s += (f"; {_pct(own.iloc[0]['rate'])} of respondents are satisfied on "
                      f"‘{r.label(own.iloc[0]['item'])}’ (an index is not a share of satisfied respondents: see "
                      "the definitions below)")
            points.append(s + ".")
    weak = service_items(top, drivers).head(WEAKEST)
    if len(weak):
        if zh:
            points.append("满意率最低的服务指标：" + "；".join(f"{r.label(w['item'])} {_rate(w, True)}"
                                                    for _, w in weak.iterrows()) + "。")
        else:
            points.append("The service indicators with the fewest satisfied respondents: " + "; ".join(
                f"{r.label(w['item'])}, {_rate(w, False)}" for _, w in weak.iterrows()) + ".")
    if admissible and len(ipma):
        first = ipma.iloc[0]
        sure = index.priority_phrase(first, r.lang)
        capped = str(first.get("potential_capped")) == "True"
        if zh:
            points.append(f"首先改进：{r.label(first['driver'])}" + (f"（{sure}）" if sure else "")
                          + f"，其指数每提高 1 分，{r.label(sat)}指数预计提高 {first['importance']:.2f} 分；"
                          f"提升至 100 分的潜在提升为 {first['potential']:.1f} 分" + ("（已截断）" if capped else "") + "。")
        else:
            points.append(f"Improve first: {r.label(first['driver'])}" + (f" ({sure})" if sure else "")
                          + f". Each point gained on its index is expected to add {first['importance']:.2f} "
                          f"points to the {r.label(sat).lower()} index; raising it to 100 would add "
                          f"{first['potential']:.1f}" + (" (capped)" if capped else "") + ".")
    by_type = _first_by_type(r) if admissible and len(ipma) else []
    if by_type:
        sep = "；" if zh else "; "
        text = sep.join((f"{name}：{r.label(d)}（潜在提升 {g:.1f}" + (f"，{sure}" if sure else "") + "）") if zh else
                        (f"{name.lower()} respondents: {r.label(d)} (potential gain {g:.1f}"
                         + (f", {sure}" if sure else "") + ")") for name, d, g, sure in by_type)
        points.append(("按受访者类型分别估计，各自的首要改进方向为——" + text + "。") if zh else
                      ("Fitted within each respondent type, the first priority is for " + text + "."))
    gap = _largest_gap(top, drivers)
    if gap is not None:
        levels = [c[len("rate_"):] for c in top.columns if c.startswith("rate_")]
        a, b = levels[0], levels[1]
        name = {g: r.type_name(g) for g in levels}
        # diff is a − b: as the lower group's shortfall, with its CI turned the same way
        sign = 1 if gap["diff"] > 0 else -1
        higher, lower = (a, b) if sign > 0 else (b, a)
        d = 100 * sign * gap["diff"]
        lo, hi = sorted(100 * sign * gap[c] for c in ("diff_ci_lower", "diff_ci_upper"))
        ci = f"{lo:.1f}–{hi:.1f}"
        if zh:
            points.append(f"差距最大的指标是{r.label(gap['item'])}：{name[lower]}的满意率比{name[higher]}低 "
                          f"{d:.1f} 个百分点（95% CI {ci}）。")
        else:
            points.append(f"The widest gap between respondent types is on {r.label(gap['item'])}: "
                          f"{name[lower].lower()} respondents are satisfied {d:.1f} percentage points less often "
                          f"than {name[higher].lower()} respondents (95% CI {ci}).")
    if not admissible:
        points.append("模型解不可接受：不报告指数与改进优先级（见“局限”）。" if zh else
                      "The model's solution is not admissible: no index or priority is reported (see Limitations).")
    r.heading("summary")
    r.add("\n".join(f"- {p}" for p in points))
    r.heading("definitions", 2)
    scaled = [i for i in top.loc[top["construct"].isin([*drivers, sat]), "item"] if _has_scale(r, i)]
    r.add(("*满意*：答案落在该题量表的最高档（top box）——" + satisfied_rule(r, scaled) + "。"
           "*满意度指数*：潜变量各题项得分的加权平均，换算为 0–100（0 为最低答案，100 为最高答案），权重来自模型"
           "（Fornell et al., 1996）；因此指数 80 不等于 80% 的受访者满意。"
           "*重要性*：驱动因素指数提高 1 分时目标指数的预期变化（总效应）。*潜在提升*：驱动因素指数达到 100 时目标指数的预期增量；"
           "接近满分的指标已无太大提升空间，潜在提升不超过目标指数距 100 的差距。") if zh else
          ("*Satisfied*: an answer in the item's top box — " + satisfied_rule(r, scaled) + ". "
           "*Index*: the weighted mean of a construct's items rescaled to 0–100 (0 the lowest answer, 100 the "
           "highest), weights from the model (Fornell et al., 1996); an index of 80 does not mean that 80% are "
           "satisfied. *Importance*: the expected change of the target index when a driver's index rises by one "
           "point (total effect). *Potential gain*: the expected gain of the target index if the driver's index "
           "reached 100; items already near the ceiling leave little room, and no gain passes what the target "
           "index can still gain."))


def recommendations(r, config: dict, admissible: bool, ipma: pd.DataFrame, top: pd.DataFrame) -> None:
    """Per leading priority driver: its indicators with the lowest share satisfied, with rates."""
    zh = r.lang == "zh"
    if not admissible or ipma.empty:
        return
    r.heading("recommendations")
    lines = []
    criterion = config.get("criterion")
    for _, row in ipma.head(RECOMMENDED).iterrows():
        items = service_items(top, [row["driver"]])
        short = items[items["rate"] < criterion] if criterion else items
        sure = index.priority_phrase(row, r.lang)
        head = (f"优先级 {int(row['priority'])}：{r.label(row['driver'])}" + (f"（{sure}）" if sure else "") if zh else
                f"Priority {int(row['priority'])}: {r.label(row['driver'])}" + (f" — {sure}" if sure else ""))
        named = ("；" if zh else "; ").join(f"{r.label(w['item'])} {_rate(w, zh)}"
                                           for _, w in (short.head(PER_DRIVER) if len(short) else items.head(1))
                                           .iterrows())
        if len(short):
            lines.append(head + (f"。先从满意率最低的指标入手：{named}。" if zh else
                                 f". Start with its indicators with the fewest satisfied respondents: {named}."))
        elif len(items):
            lines.append(head + (f"。其各项指标的满意率均已达到 {100 * criterion:.0f}%，最低者为 {named}：应改进的是"
                                 "题项未覆盖的方面，或其对满意度的影响。" if zh else
                                 f". Every one of its indicators already reaches {100 * criterion:.0f}% satisfied "
                                 f"(lowest: {named}): the room is in what its items do not ask about, or in how "
                                 "strongly it drives satisfaction."))
    if criterion:
        below = service_items(top, list(ipma["driver"]))
        below = below[below["ci_upper"] < criterion]
        if len(below):
            names = ("、" if zh else ", ").join(r.label(i) for i in below["item"])
            lines.append(f"满意率的 95% 置信区间上限仍低于 {100 * criterion:.0f}% 的指标：{names}。" if zh else
                         f"Below the {100 * criterion:.0f}% criterion even at the upper end of their 95% CI: {names}.")
    lines.append("这些建议基于一次横断面的现场调查：指数与优先级说明关联，不证明因果；改进后应再次调查以检验效果。" if zh else
                 "These rest on one cross-sectional, on-site survey: the priorities describe associations, not proven "
                 "causes; survey again after a change to see whether it worked.")
    r.add("\n".join(f"+ {x}" for x in lines))


def _first_by_type(r) -> list[tuple]:
    """(type name, driver, potential gain, how sure) of each respondent type's first priority, from
    model/by_respondent_type/ (groups.py); types whose refit gave no priorities are left out."""
    path = r.results / "model/by_respondent_type/ipma_by_group.csv"
    if not path.exists():
        return []
    t = pd.read_csv(path)
    t = t[t["priority"] == 1]
    if len(t) < 2:
        return []
    name = {str(g): r.type_name(str(g)) for g in t["group"]}
    return [(name[str(row["group"])], row["driver"], row["potential"], index.priority_phrase(row, r.lang))
            for _, row in t.iterrows()]


def _has_scale(r, item) -> bool:
    try:
        r.cb.scale_of(item)
        return True
    except (KeyError, AttributeError, ValueError):
        return False


def _largest_gap(top: pd.DataFrame, drivers: list[str]):
    if "p_holm" not in top or "diff" not in top:
        return None
    t = top[top["construct"].isin(drivers) & (top["p_holm"] < 0.05)]
    if t.empty:
        return None
    return t.loc[t["diff"].abs().idxmax()]
