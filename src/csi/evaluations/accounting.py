"""Which records are ratings of a service: every record is kept or excluded for one reason.

Steps, in order (a record excluded by an earlier step is not tested by later ones, so raw records =
kept + the sum of exclusions, which `flow` asserts):

  unparseable    no readable time of rating, no rating or one that is not a label of the scale, or a
                 channel that is not one of the codebook's value_labels
  test_record    a column matches one of the codebook's `test_records` patterns
  duplicate      a later record of the same case within `repeat_window_days` of the case's previous
                 record (by time, then raw row) among the records left by the steps above
  outside_hours  rated on site (a channel listed `on_site`) outside the opening hours (+ grace)

Months are independent partitions: a month's records are classified from the month's rows plus the
`repeat_window_days` before it (a repeat needs only its case's previous record, which lies in that
window), so classifying month by month gives exactly the result of classifying the whole stream.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from .codebook import DAYS, StreamCodebook
from .read import Source, lit

STEPS = ("unparseable", "test_record", "duplicate", "outside_hours")


def month_bounds(month: str | None) -> tuple[str, str] | None:
    """('2021-03-01', '2021-04-01') for '2021-03'; None for the whole stream."""
    if month is None or month == "none":
        return None
    start = dt.date.fromisoformat(month + "-01")
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start.isoformat(), end.isoformat()


def _unparseable(cb: StreamCodebook) -> str:
    """SQL: why a record cannot be read (NULL when it can)."""
    miss = ", ".join(lit(m) for m in cb.missing_codes + [""])
    return ("CASE WHEN ts IS NULL AND (ts_raw IS NULL OR trim(ts_raw) IN (" + miss + ")) THEN 'no time of rating' "
            "WHEN ts IS NULL THEN 'time ''' || ts_raw || ''' is not a date-time' "
            "WHEN code IS NULL AND (rating_raw IS NULL OR trim(rating_raw) IN (" + miss + ")) THEN 'no rating' "
            "WHEN code IS NULL THEN 'rating ''' || rating_raw || ''' is not a label of the scale' "
            "WHEN channel_stray IS NOT NULL THEN 'channel ''' || channel_stray || ''' is not one of the "
            "codebook''s value_labels' END")


def _test(con, src: Source, cb: StreamCodebook) -> tuple[str, str]:
    """SQL: (is a test record, which rule matched)."""
    from .read import distinct

    conds, details = [], []
    role_of = {c.code: c.role for c in cb.columns}
    for t in cb.test_records:
        role = role_of[t["column"]]
        col = {"case": "case_id"}.get(role, role)
        if role in ("service", "hall", "window", "staff"):
            pat = re.compile(t["pattern"], re.I)
            hits = [str(v) for v, _ in distinct(con, src, t["column"]) if v is not None and pat.search(str(v))]
            cond = f'"{col}" IN ({", ".join(lit(h) for h in hits)})' if hits else "FALSE"
        elif role in ("comment", "case"):
            cond = f"coalesce(regexp_matches({col}, {lit(t['pattern'])}, 'i'), FALSE)"
        else:
            continue
        conds.append(cond)
        what = f"test record: {t['column']} matches {t['pattern']!r}"
        details.append(f"WHEN {cond} THEN {lit(what)}")
    if not conds:
        return "FALSE", "NULL"
    return "(" + " OR ".join(conds) + ")", "CASE " + " ".join(details) + " END"


def _open(cb: StreamCodebook) -> str:
    """SQL: the record's time is within its weekday's opening hours (+ grace)."""
    secs = "(hour(ts) * 3600 + minute(ts) * 60 + second(ts))"
    whens = []
    for k, day in enumerate(DAYS, start=1):
        if day in cb.opening_hours:
            a, b = (int(x[:2]) * 3600 + int(x[3:]) * 60 for x in cb.opening_hours[day])
            whens.append(f"WHEN {k} THEN {secs} BETWEEN {a} AND {b + 60 * cb.grace_minutes}")
    return f"CASE isodow(ts) {' '.join(whens)} ELSE FALSE END"


def scope(src: Source, cb: StreamCodebook, month: str | None) -> str:
    """SQL on the export's own columns: the partition's records and the repeat window before them."""
    from .read import time_expr

    ts = time_expr(src, cb.role("timestamp").code)
    bounds = month_bounds(month)
    if bounds:
        return (f"{ts} >= TIMESTAMP {lit(bounds[0])} - INTERVAL '{cb.repeat_window_days * 86400:g} seconds' "
                f"AND {ts} < TIMESTAMP {lit(bounds[1])}")
    return f"{ts} IS NULL" if month == "none" else "TRUE"


def classify(con, src: Source, cb: StreamCodebook, month: str | None = None) -> None:
    """Create the table `classified`: the partition's records with `reason` (NULL = kept) and `detail`
    (read once from the export; every later query of the partition reads this table)."""
    bounds = month_bounds(month)
    unparse = _unparseable(cb)
    test, test_detail = _test(con, src, cb)
    window = f"INTERVAL '{cb.repeat_window_days * 86400:g} seconds'"
    if bounds:
        in_month = f"ts >= TIMESTAMP {lit(bounds[0])} AND ts < TIMESTAMP {lit(bounds[1])}"
    else:
        in_month = "ts IS NULL" if month == "none" else "TRUE"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE part AS
        SELECT *, {unparse} AS unparseable, CASE WHEN {test} THEN {test_detail} END AS test, {in_month} AS in_month
        FROM src
    """)
    # Repeats: only cases seen more than once (grouped by a 64-bit hash; the exact case id orders them).
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE dups AS
        WITH c AS (SELECT raw_row, ts, case_id, in_month FROM part
                   WHERE case_id IS NOT NULL AND unparseable IS NULL AND test IS NULL),
             multi AS (SELECT hash(case_id) AS h FROM c GROUP BY h HAVING count(*) > 1),
             l AS (SELECT raw_row, ts, in_month, lag(ts) OVER w AS prev_ts, lag(raw_row) OVER w AS prev_row
                   FROM c WHERE hash(case_id) IN (SELECT h FROM multi)
                   WINDOW w AS (PARTITION BY case_id ORDER BY ts, raw_row))
        SELECT raw_row, prev_row, ts - prev_ts AS gap FROM l
        WHERE prev_ts IS NOT NULL AND ts - prev_ts <= {window} AND in_month
    """)
    open_ = _open(cb)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE classified AS
        SELECT p.* EXCLUDE (unparseable, test, in_month, ts_raw, rating_raw, channel_stray),
          CASE WHEN unparseable IS NOT NULL THEN 'unparseable' WHEN test IS NOT NULL THEN 'test_record'
               WHEN d.raw_row IS NOT NULL THEN 'duplicate' WHEN on_site AND NOT {open_} THEN 'outside_hours'
          END AS reason,
          CASE WHEN unparseable IS NOT NULL THEN unparseable WHEN test IS NOT NULL THEN test
               WHEN d.raw_row IS NOT NULL THEN 'repeat of raw row ' || d.prev_row || ' (same case, '
                    || round(epoch(d.gap) / 60)::BIGINT || ' min later)'
               WHEN on_site AND NOT {open_} THEN 'rated on site on ' || dayname(ts) || ' at '
                    || strftime(ts, '%H:%M') || ', outside opening hours'
          END AS detail
        FROM part p LEFT JOIN dups d USING (raw_row)
        WHERE in_month
    """)
    con.execute("DROP TABLE part")


def exclusions(con) -> pd.DataFrame:
    return con.execute("SELECT raw_row, reason, detail FROM classified WHERE reason IS NOT NULL "
                       "ORDER BY raw_row").df()


def flow(partials: list[dict], raw_file: str, sha: str, cb: StreamCodebook) -> dict:
    """The exclusion flow of the whole stream from the partitions' counts; asserts the accounting."""
    raw = sum(p["raw_rows"] for p in partials)
    by = {s: sum(p["excluded"].get(s, 0) for p in partials) for s in STEPS}
    kept = sum(p["kept"] for p in partials)
    steps, remaining = [], raw
    for s in STEPS:
        remaining -= by[s]
        steps.append({"step": s, "excluded": by[s], "remaining": remaining})
    if raw != kept + sum(by.values()):  # pragma: no cover - an invariant
        raise AssertionError(f"record accounting failed: {raw} raw != {kept} kept + {sum(by.values())} excluded")
    return {"raw_file": raw_file, "raw_sha256": sha, "raw_rows": raw, "steps": steps, "kept": kept,
            "partitions": len(partials),
            "rules": {"order": list(STEPS), "opening_hours": {d: list(v) for d, v in cb.opening_hours.items()},
                      "grace_minutes": cb.grace_minutes, "repeat_window_days": cb.repeat_window_days,
                      "test_records": cb.test_records, "max_unparseable_share": cb.max_unparseable_share}}
