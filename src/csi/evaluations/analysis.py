"""The whole evaluation analysis: partitions (months) -> additive counts -> tables, written all or none.

`months` lists a stream's partitions, `partition` classifies and counts one of them, `combine`
adds the partitions up and makes every table; `analyse` does all three in one process (DuckDB then
uses every core on the whole file). Both routes give the same tables.

Tables (results/<district>/evaluations/tables/, CSV):
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import io
from ..errors import CSIError
from . import accounting, comments, followup, partition, rates, read, spc, survey
from .codebook import StreamCodebook

TABLES = {
    "rates_day.csv": "good-rating rate per day of rating: day, n, good, bad, rate, Wilson 95% CI, bad_rate",
    "rates_week.csv": "the same per week (week = its Monday)",
    "rates_month.csv": "the same per month (month = its first day)",
    "rates_by.csv": "rate by hall, window (within its hall), service, channel and staff (salted pseudonym) over "
                    "the period; rates of fewer than min_n ratings withheld (suppressed = true)",
    "heatmap.csv": "on-site ratings by weekday (1 = Monday) and hour: n, ratings per opening day, rate, CI",
    "peaks.csv": "deadline days and high-load days against the other days: rates, difference with Newcombe CI, "
                 "score-test p-value",
    "trend.csv": "quasi-binomial GLM of daily good counts (SEs scaled by the dispersion): trend per 30 days, weekday (vs Monday), deadline day; "
                 "odds ratios with 95% CIs; dispersion",
    "spc_window.csv": "weekly p-chart and EWMA per window: n, rate, expected, probability limits, flags",
    "spc_service.csv": "the same per service",
    "spc_signals.csv": "out-of-control periods (runs of flagged weeks) per window and service with dates",
    "reasons.csv": "bad-rating reasons ranked, overall ('(all)') and by service: share of bad ratings citing each",
    "followup.csv": "follow-up of bad ratings by hall: share resolved within the deadline (Wilson CI), median "
                    "and 90th percentile hours to resolution, overdue open cases",
    "comment_keywords.csv": "words of comments (jieba; personal data scrubbed, person names dropped) used by at "
                            "least min_n comments, with their topic",
    "comment_topics.csv": "share of comments on each codebook topic, overall ('(all)') and by service",
    "survey_comparison.csv": "survey indicators beside the stream's rate of the matching subset, with the "
                             "difference and its Newcombe CI (empty without a survey)",
}
__doc__ += "\n".join(f"  {k:24s} {v}" for k, v in TABLES.items()) + "\n"


def months(export, cb: StreamCodebook, *, encoding=None, con=None) -> dict:
    """The stream's partitions: months with a readable time of rating, plus 'none' if some have none."""
    con = con or read.connect()
    src = read.open_export(export, cb, con, encoding=encoding)
    try:
        parts = _months(con, src, cb)
    finally:
        src.close()
    _refuse_empty(None, sum(parts.values()), export)
    return {"raw_file": Path(export).as_posix(), "months": sorted(parts, key=lambda m: (m == "none", m)),
            "rows": parts}


def _months(con, src, cb) -> dict[str, int]:
    ts = read.time_expr(src, cb.role("timestamp").code)
    rows = con.execute(f"SELECT strftime({ts}, '%Y-%m') AS m, count(*) FROM {src.scan()} GROUP BY m").fetchall()
    return {("none" if m is None else m): int(n) for m, n in rows}


def _refuse_empty(flow: dict | None, raw: int, export) -> None:
    """No records, or no record kept: a clear error, not empty tables."""
    if raw == 0:
        raise CSIError("the export holds no rating records (a header and no rows)", file=export,
                       hint="export the ratings again, with the period and halls you meant to select.")
    if flow is not None and flow["kept"] == 0:
        raise CSIError(f"none of the export's {raw} records is a rating to analyse: every one was excluded",
                       file=export, problems=[f"{s['step']}: {s['excluded']}" for s in flow["steps"] if s["excluded"]],
                       hint="check the evaluation codebook (rating labels, missing codes, opening hours) against "
                            "the export: where they do not match it, every record is excluded.")


def partition_stream(export, cb: StreamCodebook, salt: bytes, months: list | None = None, *, encoding=None,
                     threads=None, memory_limit=None) -> list[partition.Partial]:
    """Classify and count the given partitions (default: every month of the stream), one after another
    in one process; DuckDB works on each with every core."""
    con = read.connect(threads, memory_limit)
    src = read.open_export(export, cb, con, encoding=encoding)
    try:
        if months is None:
            months = sorted(_months(con, src, cb), key=lambda m: (m == "none", m))
        return [partition.run(con, src, cb, salt, m) for m in months]
    finally:
        src.close()


def tables(whole: partition.Partial, flows: list[dict], cb: StreamCodebook, *, min_n: int = 10,
           deadline_days: int = 3, survey_top_box: pd.DataFrame | None = None, survey_period: str = "") -> dict:
    c = whole.counts
    d = rates.daily(c)
    out = {f"rates_{p}.csv": rates.by_period(d, p) for p in ("day", "week", "month")}
    out["rates_by.csv"] = rates.by_dimension(c, min_n)
    out["heatmap.csv"] = rates.heatmap(c)
    out["peaks.csv"] = rates.peaks(d, deadline_days)
    out["trend.csv"] = rates.trend(d, deadline_days) if len(d) > 10 else pd.DataFrame()
    charts = {k: spc.chart(spc.daily(c, k)) for k in ("window", "service")}
    out["spc_window.csv"], out["spc_service.csv"] = charts["window"], charts["service"]
    out["spc_signals.csv"] = pd.concat([spc.signals(v, k) for k, v in charts.items()], ignore_index=True)
    out["reasons.csv"] = rates.reasons(c, cb.reasons)
    last = max(t for f in flows for t in (f.get("last"), f.get("last_followup")) if t)
    out["followup.csv"] = followup.by_hall(whole.followup, last, min_n)
    out["comment_keywords.csv"], out["comment_topics.csv"] = comments.tables(whole.comments, cb.topics, min_n)
    first = min(f["first"] for f in flows if f.get("first"))
    lastr = max(f["last"] for f in flows if f.get("last"))
    out["survey_comparison.csv"] = survey.compare(c, survey_top_box, cb, f"{first[:10]} to {lastr[:10]}", survey_period)
    return out


def check_unparseable(flow: dict, excl: pd.DataFrame, cb: StreamCodebook, export) -> None:
    """Too many unreadable records is a codebook or export problem, not data to drop."""
    n = flow["steps"][0]["excluded"]
    if flow["raw_rows"] and n / flow["raw_rows"] > cb.max_unparseable_share:
        top = excl[excl["reason"] == "unparseable"]["detail"].value_counts().head(10)
        first = excl[excl["reason"] == "unparseable"].iloc[0]
        raise CSIError(f"{n} of {flow['raw_rows']} records ({n / flow['raw_rows']:.0%}) cannot be read "
                       f"(more than max_unparseable_share = {cb.max_unparseable_share:.0%})", file=export,
                       row=int(first["raw_row"]), problems=[f"{k} ({v} records)" for k, v in top.items()],
                       hint="if the ratings or channels are exported with other labels, add them to the evaluation "
                            "codebook's scale labels / value_labels; if the time column has another format, export "
                            "it as 2021-03-05 10:12:33; otherwise export the ratings again.")


def combine(export, cb: StreamCodebook, parts: list[partition.Partial], out, *, min_n=10, deadline_days=3,
            survey_top_box=None, survey_period="") -> dict:
    """Add the partitions up, make every table and write them (all or none)."""
    whole = partition.combine(parts)
    flows = [p.flow for p in parts]
    flow = accounting.flow(flows, Path(export).as_posix(), io.sha256(export), cb)
    _refuse_empty(None, flow["raw_rows"], export)
    check_unparseable(flow, whole.exclusions, cb, export)
    _refuse_empty(flow, flow["raw_rows"], export)
    top = pd.read_csv(survey_top_box) if survey_top_box else None
    t = tables(whole, flows, cb, min_n=min_n, deadline_days=deadline_days, survey_top_box=top,
               survey_period=survey_period)
    recoded = {}
    for f in flows:
        for r in f.get("recoded", []):
            key = (r["column"], r["value"], r["why"], r["action"])
            recoded[key] = max(recoded.get(key, 0), r["records"])     # distinct values: counted per file
    total = rates.with_ci(rates.daily(whole.counts)[["n", "good", "bad"]].sum().to_frame().T).iloc[0]
    flow.update(overall={k: (int(total[k]) if k in ("n", "good", "bad") else float(total[k]))
                         for k in ("n", "good", "bad", "rate", "ci_lower", "ci_upper")},   # Wilson 95% CI
                period={"first": min(f["first"] for f in flows if f.get("first")),
                        "last": max(f["last"] for f in flows if f.get("last"))},
                months=[f["month"] for f in flows if f.get("month")],
                comments=sum(f["comments"] for f in flows),
                comments_with_numbers_scrubbed=sum(f["comments_scrubbed"] for f in flows),
                cells_set_missing=[{"column": k[0], "value": k[1], "records": v, "why": k[2], "action": k[3]}
                                   for k, v in sorted(recoded.items())],
                min_n=min_n, tables=TABLES)
    write(out, t, flow, whole.exclusions)
    return flow


def write(out, t: dict, flow: dict, exclusions: pd.DataFrame) -> None:
    out = Path(out)
    names = [out / "tables" / k for k in t] + [out / "flow.json", out / "exclusions.csv"]
    with io.atomic_outputs(*names) as tmp:
        for frame, path in zip(t.values(), tmp):
            frame.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
        io.write_json(flow, tmp[-2])
        io.write_csv(exclusions, tmp[-1])


def analyse(export, cb: StreamCodebook, salt: bytes, out, *, encoding=None, threads=None, memory_limit=None,
            **kw) -> dict:
    """Everything in one process: the whole stream as one partition (one pass; months as partitions give
    the same counts, for jobs spread over cores or nodes), then the tables."""
    parts = partition_stream(export, cb, salt, [None], encoding=encoding, threads=threads, memory_limit=memory_limit)
    return combine(export, cb, parts, out, **kw)


def read_partitions(folders) -> list[partition.Partial]:
    return [partition.Partial.read(f) for f in folders]


def months_json(info: dict, path) -> None:
    with io.atomic_outputs(path) as (tmp,):
        io.write_json(info, tmp)
