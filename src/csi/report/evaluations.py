"""The district report's section on the per-transaction rating stream (好差评, issue 13), for a
district whose results hold evaluations/flow.json (rules/evaluations.smk).

As in the rest of the report nothing is estimated here: every number is read from
results/<district>/evaluations/ (flow.json, tables/*.csv) and the figures of notebook 05. Halls,
windows, services, reasons and topics are named as the tables name them. Staff pseudonyms, comment
text and keywords are not published; rates of fewer ratings than the report's minimum cell (or the
analysis' `min_n`, whichever is larger) are withheld like the survey's small cells.
"""

from __future__ import annotations

import re

import pandas as pd

from . import document as base
from ..evaluations.spc import ALPHA, LAMBDA, L

# Section text: key -> (en, zh).
TEXT = {
    "section": ("Service-evaluation stream", "办事评价（好差评）数据"),
    "flow": ("Records and exclusions", "评价记录与剔除"),
    "time": ("Good-rating rate over time", "好评率的时间变化"),
    "when": ("Hours, weekdays and peak days", "时段、星期与高峰日"),
    "spc": ("Statistical process control by window and service", "按窗口与事项的统计过程控制"),
    "why": ("Reasons of bad ratings and comment topics", "差评原因与评论主题"),
    "followup": ("Follow-up of bad ratings", "差评整改回访"),
    "survey": ("The stream beside the survey", "评价数据与问卷调查对照"),
}

# Table columns: key -> (en, zh).
COLUMNS = {
    "ev_step": ("Step", "步骤"), "ev_month": ("Month", "月份"), "ev_ratings": ("Ratings", "评价数"),
    "ev_good": ("Good, % [95% CI]", "好评率，% [95% CI]"), "ev_bad": ("Bad, %", "差评率，%"),
    "ev_days": ("Days", "日期类型"), "ev_n_days": ("Days (n)", "天数"),
    "ev_per_day": ("Per day (other days)", "日均（其他日）"), "ev_other": ("Other days, %", "其他日，%"),
    "ev_diff": ("Difference, pp [95% CI]", "差值，百分点 [95% CI]"), "ev_p": ("p", "p"),
    "ev_unit": ("Window", "窗口"), "ev_method": ("Method", "方法"),
    "ev_direction": ("Direction", "方向"), "ev_period": ("Period", "时段"), "ev_weeks": ("Weeks", "周数"),
    "ev_lowest": ("Rate, % (expected)", "好评率，%（期望值）"),
    "ev_rank": ("Rank", "排序"), "ev_reason": ("Reason", "原因"), "ev_citing": ("Bad ratings citing it", "提及的差评数"),
    "ev_share": ("Share of bad ratings, %", "占差评比例，%"), "ev_service": ("Service", "服务事项"),
    "ev_bad_n": ("Bad ratings", "差评数"), "ev_top_reason": ("Most cited reason (share, %)", "最常见原因（比例，%）"),
    "ev_hall": ("Hall", "大厅"), "ev_due": ("Due", "已到期"),
    "ev_in_time": ("Within deadline, % [95% CI]", "按期办结率，% [95% CI]"),
    "ev_median": ("Median h", "中位数（小时）"), "ev_p90": ("90th pct. h", "P90（小时）"),
    "ev_overdue": ("Overdue open", "逾期未办结"), "ev_topic": ("Topic", "主题"),
    "ev_comments": ("Comments on it", "评论数"), "ev_topic_share": ("Share of comments, %", "占评论比例，%"),
    "ev_item": ("Survey indicator", "问卷指标"), "ev_survey": ("Survey, % [95% CI]", "问卷，% [95% CI]"),
    "ev_stream": ("Ratings compared", "对照的评价"), "ev_stream_rate": ("Stream, % [95% CI]", "评价数据，% [95% CI]"),
}

STEPS = {"unparseable": ("Unreadable record (time, rating or channel)", "无法读取（时间、评价等级或渠道）"),
         "test_record": ("Test record", "测试记录"),
         "duplicate": ("Repeat rating of the same case", "同一办件重复评价"),
         "outside_hours": ("Rated on site outside opening hours", "非办公时间的现场评价")}
WEEKDAYS = {"Mon": ("Monday", "周一"), "Tue": ("Tuesday", "周二"), "Wed": ("Wednesday", "周三"),
            "Thu": ("Thursday", "周四"), "Fri": ("Friday", "周五"), "Sat": ("Saturday", "周六"),
            "Sun": ("Sunday", "周日")}
SUBSETS_ZH = {"all ratings": "全部评价", "ratings given on site": "现场评价", "ratings given online": "网上评价"}
FIGURES = {"evaluations_trend": ("Good-rating rate per week (Wilson 95% CI; bars: ratings per week).",
                                 "每周好评率（Wilson 95% 置信区间；柱：每周评价数）。"),
           "evaluations_heatmap": ("Good-rating rate of on-site ratings by weekday and hour (in brackets: ratings "
                                   "per opening day).", "现场评价按星期与时段的好评率（括号内为每个办公日的评价数）。"),
           # control charts: the units with a low out-of-control period, else the lowest (evaluations.plots)
           "evaluations_control_windows": ("Weekly p-charts of the windows with a low out-of-control period (red: "
                                           "outside the limits; shaded: EWMA signal).",
                                           "出现偏低失控时段的窗口的每周 p 控制图（红点：超出控制限；阴影：EWMA 信号）。"),
           "evaluations_control_services": ("Weekly p-charts of the services with a low out-of-control period.",
                                            "出现偏低失控时段的服务事项的每周 p 控制图。"),
           "evaluations_control_windows_none": ("Weekly p-charts of the windows with the lowest levels (none had a "
                                                "low out-of-control period).",
                                                "水平最低的窗口的每周 p 控制图（无窗口出现偏低失控时段）。"),
           "evaluations_control_services_none": ("Weekly p-charts of the services with the lowest levels (none had "
                                                 "a low out-of-control period).",
                                                 "水平最低的服务事项的每周 p 控制图（无事项出现偏低失控时段）。"),
           "evaluations_peaks_followup": ("Deadline and high-load days against other days; bad ratings resolved "
                                          "within the deadline by hall (95% CIs).",
                                          "申报截止日与高峰日对比其他日；各大厅差评按期办结率（95% 置信区间）。")}


def pct(v, digits=1) -> str | None:
    return None if v is None or pd.isna(v) else f"{100 * v:.{digits}f}"


def pp_ci(d, lo, hi) -> str | None:
    """'−4.1 [−4.8, −3.4]': a difference of shares in percentage points."""
    if d is None or pd.isna(d):
        return None
    f = lambda v: f"{100 * v:.1f}".replace("-", "−")   # noqa: E731
    return f"{f(d)} [{f(lo)}, {f(hi)}]"


def pct_words(rate, lo, hi, zh=False) -> str:
    """'93.7% (95% CI 93.4–94.0)' for running text."""
    if zh:
        return f"{100 * rate:.1f}%（95% 置信区间 {100 * lo:.1f}–{100 * hi:.1f}）"
    return f"{100 * rate:.1f}% (95% CI {100 * lo:.1f}–{100 * hi:.1f})"


def count(v):
    """A count as the tables print it ('12,345'); text ('<10') and missing values as they are."""
    return v if v is None or isinstance(v, str) or pd.isna(v) else f"{int(v):,}"


def p_text(p) -> str | None:
    if p is None or pd.isna(p):
        return None
    return "< .001" if p < .001 else f"{p:.3f}"


def or_ci(row) -> str:
    return f"{row['odds_ratio']:.3f} [{row['ci_lower']:.3f}, {row['ci_upper']:.3f}]"


class _Section:
    def __init__(self, r: base.Report, flow: dict):
        self.r, self.flow, self.zh = r, flow, r.lang == "zh"
        # rates of fewer ratings than this are withheld (the analysis marks those below its min_n)
        self.k = max(r.min_cell, int(flow.get("min_n") or 0))
        for key, v in COLUMNS.items():
            r.columns.setdefault(key, v)

    def t(self, key: str) -> str:
        return TEXT[key][1 if self.zh else 0]

    def say(self, en: str, zh: str) -> str:
        return zh if self.zh else en

    def heading(self, key: str, level: int) -> None:
        self.r.add(f"{'=' * level} {self.t(key)}")

    def read(self, name: str) -> pd.DataFrame:
        try:
            return self.r.read_csv(f"evaluations/tables/{name}.csv")
        except pd.errors.EmptyDataError:   # a table the stream is too short for (e.g. trend: 10 days or fewer)
            return pd.DataFrame()

    def figure(self, name: str, width: str = "90%", caption: str | None = None) -> None:
        if (self.r.results / f"figures/{name}.png").exists():   # made by notebook 05 (an input of the rule)
            self.r.figure(f"figures/{name}.png", self.say(*FIGURES[caption or name]), name, width)

    def suppress(self, t: pd.DataFrame, n_col: str, value_cols: list[str], flagged=None) -> pd.DataFrame:
        """Withhold value_cols (n shown as '<k') where n < k or the analysis marked the row suppressed;
        counted with the report's other suppressed cells."""
        small = pd.to_numeric(t[n_col], errors="coerce").lt(self.k)
        if flagged is not None:
            small |= flagged.astype(str).str.lower().eq("true").to_numpy()
        out = t.astype(object).copy()
        out.loc[small, value_cols] = None
        out.loc[small, n_col] = f"<{self.k}"
        self.r.suppressed += int(small.sum())
        return out

    def table(self, t: pd.DataFrame, caption: str, source: str, name: str, note: str, columns: list[str],
              counts=("n",)) -> None:
        """r.table with the count columns printed as whole numbers."""
        t = t.copy()
        for c in counts:
            t[c] = t[c].map(count).astype(object)
        self.r.table(t[columns], caption, source, name, note, columns)

    def suppressed_note(self) -> str:
        return self.say(f"Rates of fewer than {self.k} ratings are withheld (<{self.k}).",
                        f"评价数少于 {self.k} 的比例不予公布（<{self.k}）。")

    # --- the parts ----------------------------------------------------------------------------------
    def intro(self) -> None:
        f, o = self.flow, self.flow["overall"]
        first, last = f["period"]["first"][:10], f["period"]["last"][:10]
        excluded = f["raw_rows"] - f["kept"]
        if self.zh:
            self.r.add(f"办事评价系统（“好差评”）对每笔办件记录一条评价。评价导出文件 `{f['raw_file']}` 共有 "
                       f"{f['raw_rows']:,} 条记录（{first} 至 {last}），剔除 {excluded:,} 条后保留 {f['kept']:,} 条服务评价。"
                       f"好评率为 {pct_words(o['rate'], o['ci_lower'], o['ci_upper'], True)}，差评率为 {100 * o['bad'] / o['n']:.1f}%。"
                       f"{f['comments']:,} 条评价附有评论；其中 {f['comments_with_numbers_scrubbed']:,} 条含电话、证件号等长数字，"
                       "已在统计前替换。报告只公布评论主题的计数，不公布评论原文，也不公布工作人员代码。")
        else:
            self.r.add(f"The agency's rating system (good/bad review) records one rating per transaction. The export "
                       f"`{f['raw_file']}` holds {f['raw_rows']:,} records from {first} to {last}; "
                       f"{f['kept']:,} were kept as ratings of a service ({excluded:,} excluded). "
                       f"{pct_words(o['rate'], o['ci_lower'], o['ci_upper'])} of them were good and {100 * o['bad'] / o['n']:.1f}% "
                       f"bad. {f['comments']:,} ratings carried a comment; the phone, ID and other long numbers of "
                       f"{f['comments_with_numbers_scrubbed']:,} comments were replaced before any counting. Only "
                       "counts of comment topics are published here: no comment text and no staff codes.")

    def records(self) -> None:
        f = self.flow
        self.heading("flow", 2)
        rows = [{"ev_step": self.say("Records exported", "导出记录"), "excluded": None, "remaining": f["raw_rows"]}]
        rows += [{"ev_step": STEPS.get(s["step"], (base.readable(s["step"]),) * 2)[1 if self.zh else 0],
                  "excluded": s["excluded"], "remaining": s["remaining"]} for s in f["steps"]]
        rows.append({"ev_step": self.say("Kept ratings", "保留的评价"), "excluded": None, "remaining": f["kept"]})
        t = pd.DataFrame(rows, dtype=object)
        self.table(t, self.say("Rating records: exclusion flow", "评价记录剔除流程"), "evaluations/flow.json",
                     "ev_flow", self.say("Steps in order; each record counts once, at the first step it fails.",
                                         "依次执行；每条记录只在其首次未通过的步骤处计数。"),
                     ["ev_step", "excluded", "remaining"], ["excluded", "remaining"])

    def over_time(self) -> None:
        self.heading("time", 2)
        m = self.read("rates_month")
        t = pd.DataFrame({"ev_month": m["month"].astype(str).str[:7], "n": m["n"],
                          "ev_good": [base.pct_ci(*v) for v in m[["rate", "ci_lower", "ci_upper"]].itertuples(index=False)],
                          "ev_bad": m["bad_rate"].map(pct)})
        t = self.suppress(t, "n", ["ev_good", "ev_bad"])
        self.figure("evaluations_trend")
        tr = self.read("trend")
        if len(tr):
            self.r.add(self._trend_words(tr))
        self.table(t, self.say("Good-rating rate by month", "各月好评率"), "evaluations/tables/rates_month.csv",
                     "ev_months", self.say("Good ratings with Wilson 95% CIs; bad: share of bad ratings. ",
                                           "好评率及 Wilson 95% 置信区间；差评率为差评所占比例。")
                     + self.suppressed_note(), ["ev_month", "n", "ev_good", "ev_bad"])

    def _trend_words(self, tr: pd.DataFrame) -> str:
        tr = tr.set_index("term")
        ok = tr["odds_ratio"].notna()
        disp = tr["dispersion"].dropna()
        disp = f"{disp.iloc[0]:.2f}" if len(disp) else "–"
        parts = []
        if ok.get("trend_per_30_days", False):
            parts.append(self.say(f"per 30 days, OR = {or_ci(tr.loc['trend_per_30_days'])}",
                                  f"每 30 天 OR = {or_ci(tr.loc['trend_per_30_days'])}"))
        if ok.get("deadline_day", False):
            parts.append(self.say(f"on deadline days against other days, OR = {or_ci(tr.loc['deadline_day'])}",
                                  f"申报截止日相对其他日 OR = {or_ci(tr.loc['deadline_day'])}"))
        days = [t_ for t_ in tr.index if t_.startswith("weekday_") and ok[t_]]
        if days:
            name = lambda t_: WEEKDAYS.get(t_[8:], (t_[8:],) * 2)[1 if self.zh else 0]   # noqa: E731
            parts.append(self.say("against Monday, ", "相对周一，") + ("；" if self.zh else "; ").join(
                f"{name(t_)} {or_ci(tr.loc[t_])}" for t_ in days))
        if not parts:
            return ""
        if self.zh:
            return ("按日好评数的拟二项广义线性模型（离散参数 " + disp + "，标准误按其放大）给出好评优势比（OR，95% 置信区间）："
                    + "；".join(parts) + "。OR 小于 1 表示好评的可能性较低。")
        return (f"A quasi-binomial GLM of the daily good-rating counts (dispersion {disp}; standard errors scaled by "
                "it) gives the odds ratios of a good rating (95% CIs): " + "; ".join(parts)
                + ". An OR below 1 means lower odds of a good rating.")

    def when(self) -> None:
        self.heading("when", 2)
        h = self.read("heatmap")
        h = h[h["n"] >= self.k] if len(h) else h
        if len(h):
            lo, hi = h.loc[h["rate"].idxmin()], h.loc[h["rate"].idxmax()]
            day = lambda row: WEEKDAYS.get(row["weekday_name"], (row["weekday_name"],) * 2)[1 if self.zh else 0]  # noqa: E731
            cell = lambda row: (f"{day(row)} {int(row['hour']):02d}:00–{int(row['hour']):02d}:59："  # noqa: E731
                                f"{pct_words(row['rate'], row['ci_lower'], row['ci_upper'], True)}，n = {int(row['n']):,}"
                                if self.zh else
                                f"{day(row)} {int(row['hour']):02d}:00–{int(row['hour']):02d}:59: "
                                f"{pct_words(row['rate'], row['ci_lower'], row['ci_upper'])}, n = {int(row['n']):,}")
            self.r.add(self.say(f"Of the on-site ratings (given at the window, so the time of rating is the time of "
                                f"service), the good-rating rate was lowest on {cell(lo)}; and highest on {cell(hi)} "
                                f"(of the hours with at least {self.k} ratings).",
                                f"现场评价（在窗口当场评价，评价时间即办理时间）中，好评率最低的时段为{cell(lo)}；"
                                f"最高为{cell(hi)}（仅计评价数不少于 {self.k} 的时段）。"))
        self.figure("evaluations_heatmap")
        p = self.read("peaks")
        if p.empty:
            return
        names = [self._days(d) for d in p["days"]]
        t = pd.DataFrame({
            "ev_days": [n for n, _ in names], "ev_n_days": p["n_days"], "n": p["ratings"],
            "ev_per_day": [f"{a:.1f} ({b:.1f})" for a, b in zip(p["ratings_per_day"], p["other_ratings_per_day"])],
            "ev_good": [base.pct_ci(*v) for v in p[["rate", "rate_ci_lower", "rate_ci_upper"]].itertuples(index=False)],
            "ev_other": p["other_rate"].map(pct),
            "ev_diff": [pp_ci(*v) for v in p[["diff", "diff_ci_lower", "diff_ci_upper"]].itertuples(index=False)],
            "ev_p": p["p_value"].map(p_text)})
        t = self.suppress(t, "n", ["ev_good", "ev_diff", "ev_p"])
        self.table(t, self.say("Peak days against the other days", "高峰日与其他日对比"), "evaluations/tables/peaks.csv",
                     "ev_peaks", self.say("; ".join(f"{n}: {d}" for n, d in names if d) + ". n: ratings on these "
                                          "days; per day: ratings per day (on the other days). Difference: good-rating "
                                          "rate of the days minus that of the other days (Newcombe 95% CI); p: score "
                                          "test. ",
                                          "；".join(f"{n}：{d}" for n, d in names if d) + "。n：这些日期的评价数；日均："
                                          "日均评价数（括号内为其他日）。差值：该类日期好评率减其他日好评率（Newcombe 95% "
                                          "置信区间）；p：score 检验。")
                     + self.suppressed_note(), ["ev_days", "ev_n_days", "n", "ev_per_day", "ev_good", "ev_other",
                                                "ev_diff", "ev_p"], ["n", "ev_n_days"])

    def _days(self, text: str) -> tuple[str, str]:
        """A day group of the peaks table as (name, definition), in the report's language."""
        name, _, rest = text.partition(" (")
        if self.zh:
            if m := re.match(r"deadline days \(last (\d+) working days", text):
                return "申报截止日", f"每月最后 {m[1]} 个工作日"
            if m := re.match(r"high-load days \(> ([\d.]+) x", text):
                return "高峰日", f"评价量超过同星期中位数的 {m[1]} 倍"
        return name[:1].upper() + name[1:], rest.rstrip(")")

    def control(self) -> None:
        self.heading("spc", 2)
        sig = self.read("spc_signals")
        if "chart" not in sig:
            sig = pd.DataFrame(columns=["chart", "unit", "direction"])
        units = {k: t["unit"].nunique() if "unit" in (t := self.read(f"spc_{k}")) else 0 for k in ("window", "service")}
        flagged = {k: sig.loc[sig["chart"] == k, "unit"].nunique() for k in ("window", "service")}
        self.r.add(self.say(
            f"Each window and each service has a weekly p-chart with probability limits (α = {ALPHA} per week) "
            "around its expected rate: its own level in its in-control weeks plus the day effects all units share "
            "(such as deadline days), so that a common cause is not an alarm; an EWMA chart "
            f"(λ = {LAMBDA}, L = {L:g}) shows slow drift. "
            f"{flagged['window']} of {units['window']} windows and {flagged['service']} of {units['service']} "
            "services had at least one out-of-control period.",
            f"每个窗口和每个服务事项各有一张每周 p 控制图，控制限为概率限（每周 α = {ALPHA}），中心为其期望好评率："
            "该单元在受控周的自身水平加上所有单元共有的日效应（如申报截止日），因此共同原因不会触发警报；"
            f"EWMA 控制图（λ = {LAMBDA}，L = {L:g}）用于发现缓慢漂移。{units['window']} 个窗口中有 "
            f"{flagged['window']} 个、{units['service']} 个服务事项中有 {flagged['service']} 个出现过至少一次失控时段。"))
        way = {"low": self.say("low", "偏低"), "high": self.say("high", "偏高")}
        for kind, unit in (("window", ("Window", "窗口")), ("service", ("Service", "服务事项"))):
            g = sig[sig["chart"] == kind]
            if len(g):
                self.r.columns["ev_unit"] = unit
                t = pd.DataFrame({
                    "ev_unit": g["unit"], "ev_method": g["method"],
                    "ev_direction": g["direction"].map(lambda v: way.get(v, v)),
                    "ev_period": [f"{a} – {b[5:] if b[:4] == a[:4] else b}" for a, b in zip(g["start"], g["end"])],
                    "ev_weeks": g["weeks"],
                    "ev_lowest": [f"{100 * lo:.1f} ({100 * e:.1f})" for lo, e in zip(g["lowest_rate"], g["expected"])],
                    "n": g["ratings"]})
                t = self.suppress(t, "n", ["ev_lowest"])
                self.table(t, self.say(f"Out-of-control periods: {unit[0].lower()}s", f"失控时段：{unit[1]}"),
                           "evaluations/tables/spc_signals.csv", f"ev_signals_{kind}", self.say(
                               "Runs of consecutive flagged weeks (p-chart or EWMA); a period ends on the Sunday of its "
                               "last week. Rate: the lowest weekly rate of the period, with the expected rate of its "
                               "first week; n: ratings in the period. ",
                               "连续被标记的周（p 控制图或 EWMA）合并为一个时段，时段止于最后一周的周日。好评率：时段内最低的"
                               "周好评率，括号内为首周的期望好评率；n：时段内评价数。") + self.suppressed_note(),
                           ["ev_unit", "ev_method", "ev_direction", "ev_period", "ev_weeks", "ev_lowest", "n"],
                           ["n", "ev_weeks"])
            low = (g["direction"] == "low").any()
            self.figure(f"evaluations_control_{kind}s", caption=f"evaluations_control_{kind}s{'' if low else '_none'}")

    def why(self) -> None:
        self.heading("why", 2)
        label = "label_zh" if self.zh else "label_en"
        rs = self.read("reasons")
        every = rs[rs["service"] == "(all)"].sort_values("rank").head(8) if len(rs) else rs
        if len(every):
            t = pd.DataFrame({"ev_rank": every["rank"], "ev_reason": every[label], "n": every["citing"],
                              "ev_share": every["share"].map(pct)})
            t = self.suppress(t, "n", ["ev_share"])
            bad = int(every["bad_ratings"].iloc[0])
            self.table(t, self.say(f"Reasons given for bad ratings (of {bad:,} bad ratings)",
                                     f"差评原因（共 {bad:,} 条差评）"), "evaluations/tables/reasons.csv", "ev_reasons",
                         self.say("A bad rating may give several reasons. ", "一条差评可选择多个原因。")
                         + self.suppressed_note(), ["ev_rank", "ev_reason", "n", "ev_share"])
            top = rs[(rs["service"] != "(all)") & (rs["rank"] == 1)].sort_values("bad_ratings", ascending=False)
            if len(top):
                t = pd.DataFrame({"ev_service": top["service"], "ev_bad_n": top["bad_ratings"],
                                  "ev_top_reason": [f"{lab} ({pct(s)})" if pd.notna(s) else None
                                                    for lab, s in zip(top[label], top["share"])]})
                t = self.suppress(t, "ev_bad_n", ["ev_top_reason"])
                self.table(t, self.say("The most cited reason of bad ratings by service", "各服务事项最常见的差评原因"),
                             "evaluations/tables/reasons.csv", "ev_reasons_service", self.suppressed_note(),
                             ["ev_service", "ev_bad_n", "ev_top_reason"], ["ev_bad_n"])
        tp = self.read("comment_topics")
        tp = tp[tp["service"] == "(all)"] if len(tp) else tp
        if len(tp) and int(tp["comments"].iloc[0]):
            t = pd.DataFrame({"ev_topic": tp[label], "n": tp["topic_comments"], "ev_topic_share": tp["share"].map(pct)})
            t = t.sort_values("n", ascending=False, key=lambda s: pd.to_numeric(s, errors="coerce"))
            t = self.suppress(t, "n", ["ev_topic_share"], tp.loc[t.index, "suppressed"])
            self.table(t, self.say(f"Comment topics (of {int(tp['comments'].iloc[0]):,} comments)",
                                     f"评论主题（共 {int(tp['comments'].iloc[0]):,} 条评论）"),
                         "evaluations/tables/comment_topics.csv", "ev_topics",
                         self.say("A comment counts for a topic when it uses one of the topic's words (evaluation "
                                  "codebook); it may count for several. Counts only: no comment text is published. ",
                                  "评论含有某主题词表（评价 codebook）中的词即计入该主题，可计入多个主题。仅公布计数，"
                                  "不公布评论原文。") + self.suppressed_note(), ["ev_topic", "n", "ev_topic_share"])

    def followup(self) -> None:
        self.heading("followup", 2)
        f = self.read("followup")
        if f.empty:
            return
        t = pd.DataFrame({
            "ev_hall": f["hall"].map(lambda h: self.say("All halls", "全部大厅") if h == "(all)" else h),
            "ev_bad_n": f["bad_ratings"], "ev_due": f["due"],
            "ev_in_time": [base.pct_ci(*v) for v in f[["share_within_deadline", "ci_lower", "ci_upper"]].itertuples(index=False)],
            "ev_median": f["median_hours"].map(lambda v: None if pd.isna(v) else f"{v:.0f}"),
            "ev_p90": f["p90_hours"].map(lambda v: None if pd.isna(v) else f"{v:.0f}"),
            "ev_overdue": f["overdue_open"]})
        values = ["ev_in_time", "ev_median", "ev_p90"]
        t = self.suppress(t, "ev_due", values, f["suppressed"])
        halls = [i for i in t.index if f.loc[i, "hall"] != "(all)"]   # they add up to the total shown
        t, hidden = base.suppress_complement(t, [[(i, "ev_due", values) for i in halls]], self.k)
        self.r.suppressed += hidden
        worst = f[(f["hall"] != "(all)") & ~f["suppressed"].astype(str).str.lower().eq("true")
                  & f["due"].ge(self.k) & f["share_within_deadline"].notna()]
        if len(worst) > 1:
            w = worst.loc[worst["share_within_deadline"].idxmin()]
            self.r.add(self.say(
                f"Of the bad ratings due, {base.esc(w['hall'])} resolved the fewest within the deadline: "
                f"{pct_words(w['share_within_deadline'], w['ci_lower'], w['ci_upper'])}; median {w['median_hours']:.0f} h "
                "from the rating to resolution.",
                f"已到期的差评中，{base.esc(w['hall'])}按期办结率最低："
                f"{pct_words(w['share_within_deadline'], w['ci_lower'], w['ci_upper'], True)}；从评价到办结的中位时间为 "
                f"{w['median_hours']:.0f} 小时。"))
        self.table(t, self.say("Follow-up of bad ratings by hall", "各大厅差评整改回访"), "evaluations/tables/followup.csv",
                     "ev_followup", self.say(
                         "Due: resolved, or past the deadline when the export was made; within deadline: share of the "
                         "due bad ratings resolved in time (Wilson 95% CI); hours from the rating to resolution. ",
                         "已到期：已办结或导出时已过期限；按期办结率：已到期差评中按期办结的比例（Wilson 95% 置信区间）；"
                         "时间为从评价到办结的小时数。") + self.suppressed_note(),
                     ["ev_hall", "ev_bad_n", "ev_due", "ev_in_time", "ev_median", "ev_p90", "ev_overdue"],
                   ["ev_bad_n", "ev_due", "ev_overdue"])
        self.figure("evaluations_peaks_followup", "85%")

    def survey(self) -> None:
        self.heading("survey", 2)
        c = self.read("survey_comparison")
        if c.empty:
            self.r.add(self.say("No survey indicator is set beside the stream (the evaluation codebook's `survey:` "
                                "list names none of this district's indicators).",
                                "评价 codebook 的 `survey:` 列表未列出本区县问卷的指标，故无对照。"))
            return
        t = pd.DataFrame({
            "ev_item": c["label_zh" if self.zh else "label_en"].fillna(c["item"]),
            "ev_survey": [base.pct_ci(*v) for v in c[["survey_rate", "survey_ci_lower", "survey_ci_upper"]].itertuples(index=False)],
            "ev_stream": c["stream"].map(lambda s: SUBSETS_ZH.get(s, s) if self.zh else s),
            "ev_stream_rate": [base.pct_ci(*v) for v in c[["stream_rate", "stream_ci_lower", "stream_ci_upper"]].itertuples(index=False)],
            "ev_diff": [pp_ci(*v) for v in c[["diff", "diff_ci_lower", "diff_ci_upper"]].itertuples(index=False)],
            "n": c["stream_n"]})
        small = pd.to_numeric(c["survey_n"], errors="coerce").lt(self.k).to_numpy()
        t.loc[small, ["ev_survey", "ev_diff"]] = None
        self.r.suppressed += int(small.sum())
        t = self.suppress(t, "n", ["ev_stream_rate", "ev_diff"])
        # the survey's period is the district's fieldwork: said in the report's language where the config has it
        survey_period = c["survey_period"].fillna("").map(lambda a: (self.r.fieldwork or a) if a else a)
        periods = sorted({(str(a), str(b)) for a, b in zip(survey_period, c["stream_period"].fillna(""))})
        when = ("；" if self.zh else "; ").join(
            f"{self.say('survey', '问卷')} {a or '–'}{'，' if self.zh else ', '}{self.say('stream', '评价数据')} "
            f"{b.replace(' to ', ' 至 ') if self.zh else b}" for a, b in periods)
        self.table(t,
                     self.say("Survey indicators beside the rating stream", "问卷指标与评价数据对照"),
                     "evaluations/tables/survey_comparison.csv", "ev_survey", self.say(
                         f"Survey: top-box share (Wilson 95% CI); stream: good-rating rate of the ratings named, n "
                         f"ratings; difference: stream minus survey (Newcombe 95% CI). Periods: {when}. The two "
                         "measure different things (a rating right after one transaction; a questionnaire about the "
                         "agency): a gap is a finding to explain, not an error. ",
                         f"问卷：满意率（Wilson 95% 置信区间）；评价数据：所列评价的好评率，n 为评价数；差值：评价数据减问卷"
                         f"（Newcombe 95% 置信区间）。时期：{when}。二者测量的内容不同（单笔办件后的即时评价；对经办机构的"
                         "问卷评价），差异是需要解释的发现，而非错误。") + self.suppressed_note(),
                     ["ev_item", "ev_survey", "ev_stream", "n", "ev_stream_rate", "ev_diff"])
        self.r.add(self.say(
            "Ratings are given by those who choose to rate, right after a transaction; they are not a sample of the "
            "agency's users, and the raters of a bad experience may rate more or less often than others.",
            "评价由自愿评价的办事人在办件后即时给出，并非办事人群的抽样；体验不佳者的评价意愿可能与他人不同。"))


def section(r: base.Report, level: int = 1) -> bool:
    """Add the rating-stream section to the report when results/<district>/evaluations/flow.json
    exists; returns whether it did."""
    if not (r.results / "evaluations/flow.json").exists():
        return False
    flow = r.read_json("evaluations/flow.json")
    if "overall" not in flow:
        raise base.CSIError("evaluations/flow.json has no overall good-rating rate (written by an older csi)",
                            file=r.results / "evaluations/flow.json",
                            hint="make the stream's tables again (`csi evaluations tables`, or run the pipeline).")
    s = _Section(r, flow)
    s.heading("section", level)
    s.intro()
    s.records()
    s.over_time()
    s.when()
    s.control()
    s.why()
    s.followup()
    s.survey()
    return True
