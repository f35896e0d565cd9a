"""The work on one partition (a month, or the whole stream at once): every record classified, and
the kept ratings reduced to additive counts that the tables are made from. Partitions' counts
simply add up, so months can run in any order, on any core or node.

A partition's result (`Partial`) holds only counts, the exclusions (raw row, reason, detail),
staff pseudonyms (salted like respondent ids) and comment word counts: no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import io, privacy
from . import accounting, comments
from .codebook import NOT_RECORDED, StreamCodebook
from .read import Source, reason_flags

# Grouping sets of the counts: each is (name, keys). `day` is the day of rating.
SETS = [("hour", ("day", "hour", "on_site")), ("window", ("day", "hall", "window")), ("service", ("day", "service")),
        ("channel", ("day", "channel")), ("staff", ("day", "hall", "staff"))]
KEYS = ["day", "hour", "on_site", "hall", "window", "service", "channel", "staff"]


@dataclass
class Partial:
    month: str | None
    counts: pd.DataFrame          # set, KEYS, n, good, bad, r_<reason>...
    followup: pd.DataFrame        # hall, status, resolved, in_time, hours, open_deadline, n
    comments: pd.DataFrame        # service, kind, key, n
    exclusions: pd.DataFrame      # raw_row, reason, detail
    flow: dict = field(default_factory=dict)

    FILES = ("counts", "followup", "comments", "exclusions")

    def write(self, folder) -> None:
        folder = Path(folder)
        paths = [folder / f"{name}.parquet" for name in self.FILES] + [folder / "flow.json"]
        with io.atomic_outputs(*paths) as tmp:
            for name, path in zip(self.FILES, tmp):
                io.write_parquet(getattr(self, name), path)
            io.write_json(self.flow, tmp[-1])

    @classmethod
    def read(cls, folder) -> "Partial":
        import json

        folder = Path(folder)
        frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in cls.FILES}
        flow = json.loads((folder / "flow.json").read_text("utf-8"))
        return cls(month=flow.get("month"), flow=flow, **frames)


def run(con, src: Source, cb: StreamCodebook, salt: bytes, month: str | None = None) -> Partial:
    """Classify and count one partition (month 'YYYY-MM', 'none' for records without a readable
    time, None for the whole stream at once)."""
    from .read import build_view

    src.scope = accounting.scope(src, cb, month)
    build_view(con, src, cb)
    accounting.classify(con, src, cb, month)
    good = ", ".join(map(str, cb.good))
    bad = ", ".join(map(str, cb.bad))
    reasons = [f"r_{o['code']}" for o in cb.reasons]
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW kept AS
        SELECT CAST(ts AS DATE) AS day, hour(ts)::INTEGER AS hour, on_site, online, hall, "window", service,
               channel, staff, ts, (code IN ({good}))::INTEGER AS good, (code IN ({bad}))::INTEGER AS bad,
               comment, status, resolved_at, deadline, reasons
        FROM classified WHERE reason IS NULL
    """)
    sets = ", ".join("(" + ", ".join(f'"{k}"' for k in keys) + ")" for _, keys in SETS)
    grouping = ", ".join(f'"{k}"' for k in KEYS)
    counts = con.execute(f"""
        SELECT GROUPING({grouping}) AS gid, {grouping}, count(*) AS n, sum(good)::BIGINT AS good,
               sum(bad)::BIGINT AS bad
        FROM kept GROUP BY GROUPING SETS ({sets})
    """).df()
    gid = {}
    for name, keys in SETS:   # GROUPING(): bit set (leftmost key = highest bit) where a key is not grouped
        gid[sum(1 << (len(KEYS) - 1 - i) for i, k in enumerate(KEYS) if k not in keys)] = name
    counts.insert(0, "set", counts.pop("gid").map(gid))
    for k in ("hall", "window", "service", "channel", "staff"):
        counts[k] = counts[k].astype(object)
    for name, keys in SETS:           # a missing value in a grouped column: shown as not recorded
        rows = counts["set"] == name
        for k in keys:
            if k in ("hall", "window", "service", "channel", "staff"):
                counts.loc[rows & counts[k].isna(), k] = NOT_RECORDED
    staff = counts["staff"].dropna().unique()
    pseudo = {s: s if s == NOT_RECORDED else privacy.pseudonym(s, salt) for s in staff}
    counts["staff"] = counts["staff"].map(pseudo)
    counts = counts.sort_values(["set"] + KEYS, kind="stable").reset_index(drop=True)
    followup = con.execute(f"""
        SELECT coalesce(hall, '{NOT_RECORDED}') AS hall, status, resolved_at IS NOT NULL AS resolved,
               coalesce(resolved_at <= deadline, FALSE) AS in_time,
               CASE WHEN resolved_at IS NOT NULL THEN floor(epoch(resolved_at - ts) / 3600)::INTEGER END AS hours,
               CASE WHEN resolved_at IS NULL THEN CAST(deadline AS DATE) END AS open_deadline,
               count(*) AS n
        FROM kept WHERE bad = 1 GROUP BY ALL ORDER BY ALL
    """).df()
    texts = con.execute(f"""
        SELECT service, {comments.scrub_sql('comment')} AS text, count(*) AS n,
               count(*) FILTER (WHERE {comments.scrub_sql('comment')} <> comment) AS scrubbed
        FROM kept WHERE comment IS NOT NULL GROUP BY ALL
    """).df()
    words = comments.count(texts, cb.topics)
    excl = accounting.exclusions(con)
    stats = con.execute("""
        SELECT count(*) AS raw, count(*) FILTER (WHERE reason IS NULL) AS kept, min(ts), max(ts),
               max(resolved_at) FILTER (WHERE reason IS NULL)
        FROM classified""").fetchone()
    flow = {"month": month, "raw_rows": int(stats[0]), "kept": int(stats[1]),
            "excluded": {s: int((excl["reason"] == s).sum()) for s in accounting.STEPS},
            "first": _iso(stats[2]), "last": _iso(stats[3]), "last_followup": _iso(stats[4]),
            "comments": int(texts["n"].sum()), "comments_scrubbed": int(texts["scrubbed"].sum()),
            "recoded": src.recoded}
    # reasons ticked in bad ratings, per day and service (the few bad ratings only)
    if reasons:
        ticked = con.execute(f"""
            SELECT day, coalesce(service, '{NOT_RECORDED}') AS service {''.join(f', sum({r})::BIGINT AS {r}' for r in reasons)}
            FROM (SELECT day, service {reason_flags(cb)} FROM kept WHERE bad = 1 AND reasons IS NOT NULL)
            GROUP BY ALL""").df()
        ticked["set"] = "service"
        counts = counts.merge(ticked, on=["set", "day", "service"], how="left")
        counts[reasons] = counts[reasons].fillna(0)
    counts = counts.astype({c: "int64" for c in ["n", "good", "bad"] + reasons})
    con.execute("DROP TABLE classified")
    return Partial(month, counts, followup, words, excl, flow)


def _iso(v):
    return None if v is None or v != v else pd.Timestamp(v).isoformat(sep=" ")


def combine(parts: list[Partial]) -> Partial:
    """The partitions' counts added up (one Partial for the whole stream)."""
    counts = pd.concat([p.counts for p in parts], ignore_index=True)
    keys = ["set"] + KEYS
    counts = counts.groupby(keys, dropna=False, sort=True).sum(numeric_only=True).reset_index()
    followup = pd.concat([p.followup for p in parts], ignore_index=True)
    fkeys = ["hall", "status", "resolved", "in_time", "hours", "open_deadline"]
    followup = followup.groupby(fkeys, dropna=False, sort=True)["n"].sum().reset_index()
    words = pd.concat([p.comments for p in parts], ignore_index=True)
    words = words.groupby(["service", "kind", "key"], sort=True)["n"].sum().reset_index() if len(words) else words
    excl = pd.concat([p.exclusions for p in parts], ignore_index=True).sort_values("raw_row", kind="stable")
    return Partial(None, counts, followup, words, excl.reset_index(drop=True),
                   {"partitions": [p.flow for p in parts]})
