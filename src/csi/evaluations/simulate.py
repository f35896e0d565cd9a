"""Seeded simulator of a district's "good/bad review" (好差评) rating stream, with planted incidents.

A year of the district's halls: ratings per opening day (weekday load, holidays closed, the
contribution-declaration deadline at each month's end), per hour, hall, window, staff, service
and channel. P(good rating) is a logistic model of those effects
(config/evaluations_simulation.yaml). Planted on top: a window whose rate drops for some weeks, a
service whose ratings fall after a policy change, the deadline-day effect, slow follow-up of bad
ratings at one hall, and records that are not ratings of a service (repeats, test records, on-site
ratings outside opening hours, unreadable records). The truth file lists them, with direct counts.

Each month is drawn from its own random stream (seed, district, month), so the file is the same
whichever months are drawn first; pyarrow writes it byte-identically for the same versions.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from ..codebook import SafeLoader

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅玉志鹏宇浩然欣怡子涵雨轩")
REASONS = ["等待时间长", "服务态度差", "业务不熟练", "办事流程繁琐", "材料要求多", "系统故障或网络慢", "政策不合理",
           "多次跑腿", "其他"]
REASON_P = np.array([0.35, 0.15, 0.15, 0.15, 0.12, 0.10, 0.05, 0.10, 0.05])
COMMENTS_GOOD = ["服务很好", "态度热情，办理速度快", "点赞", "工作人员很耐心", "满意", "一次办好，很方便", "非常专业，谢谢",
                 "办理很快，感谢", "微笑服务，很好"]
COMMENTS_FAIR = ["还行", "一般，希望再快点", "基本满意，排队有点久", "可以"]
COMMENTS_BAD = {
    "等待时间长": ["排队时间太长了", "等了两个多小时", "取号后等了很久", "人太多，等待太久"],
    "服务态度差": ["工作人员态度冷淡", "态度不好，不耐烦", "问了几遍都不耐烦"],
    "业务不熟练": ["工作人员业务不熟悉，问了好几个人", "解释不清楚", "业务不熟，办错了"],
    "办事流程繁琐": ["流程太复杂，要跑好几个窗口", "手续繁琐"],
    "材料要求多": ["材料要求太多，来回跑了三趟", "要的证明太多"],
    "系统故障或网络慢": ["系统太卡，一直转圈", "网络故障办不了", "系统崩溃，白跑一趟", "系统登录不上"],
    "政策不合理": ["新政策不合理", "政策变了也没人提前告知", "新规定太麻烦"],
    "多次跑腿": ["跑了好几次还没办成", "第三次来了还没办好"],
    "其他": ["不满意", "希望改进"],
}
TEST_COMMENTS = ["测试", "测试数据", "test"]
BAD_RATINGS = ["未评价", "", "5", "好评"]         # what an unreadable rating cell holds


def load_spec(path) -> dict:
    return yaml.load(Path(path).read_text("utf-8"), Loader=SafeLoader)


def _rng(seed: int, district: str, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(district.encode()), *key]))


def _logit(p):
    return np.log(p / (1 - p))


class Structure:
    """Halls, windows, staff and their effects: fixed for the whole year (one random stream)."""

    def __init__(self, spec: dict):
        rng = _rng(spec["seed"], spec["district"], 0)
        self.halls = list(spec["halls"])
        windows, hall_of, share = [], [], []
        for h, entry in spec["halls"].items():
            for k in range(entry["windows"]):
                windows.append(f"{k + 1}号窗口")
                hall_of.append(self.halls.index(h))
                share.append(entry["share"] / entry["windows"])
        self.windows = windows
        self.window_hall = np.array(hall_of)
        self.window_p = np.array(share) / sum(share)
        self.window_effect = rng.normal(0, spec["window_sd"], len(windows))
        lo, hi = spec["staff_per_window"]
        self.staff_count = rng.integers(lo, hi + 1, len(windows))
        self.staff_offset = np.concatenate([[0], np.cumsum(self.staff_count)[:-1]])
        n_staff = int(self.staff_count.sum())
        self.staff_ids = [f"SB{1001 + 7 * k:04d}" for k in range(n_staff)]
        self.staff_names = ["".join(rng.choice(SURNAMES, 1)) + "".join(rng.choice(GIVEN, int(rng.integers(1, 3))))
                            for _ in range(n_staff)]
        self.staff_effect = rng.normal(0, spec["staff_sd"], n_staff)
        self.services = list(spec["services"])
        self.service_p = np.array([v[0] for v in spec["services"].values()], float)
        self.service_p /= self.service_p.sum()
        self.service_effect = np.array([v[1] for v in spec["services"].values()], float)
        self.channels = list(spec["channels"])
        self.channel_p = np.array([c["share"] for c in spec["channels"].values()], float)
        self.channel_p /= self.channel_p.sum()
        self.channel_effect = np.array([c["effect"] for c in spec["channels"].values()], float)
        self.channel_delay = np.array([c["delay_hours"] for c in spec["channels"].values()], float)
        self.hall_effect = np.array([spec["halls"][h]["effect"] for h in self.halls], float)


def calendar(spec: dict) -> tuple[list[dt.date], set[dt.date]]:
    """Opening days of the period and the deadline days among them (last working days of a month)."""
    start = dt.date.fromisoformat(spec["period"]["start"])
    end = dt.date.fromisoformat(spec["period"]["end"])
    holidays = {dt.date.fromisoformat(d) for d in spec.get("holidays", [])}
    days = [start + dt.timedelta(k) for k in range((end - start).days + 1)]
    open_days = [d for d in days if DAYS[d.weekday()] in spec["weekday"] and d not in holidays]
    deadline = set()
    for m in sorted({(d.year, d.month) for d in open_days}):
        working = [d for d in open_days if (d.year, d.month) == m and d.weekday() < 5]
        deadline |= set(working[-spec["deadline"]["days"]:])
    return open_days, deadline


def _month_rows(spec: dict, st: Structure, days: list[dt.date], deadline: set, year: int, month: int,
                scale: float) -> tuple[dict, dict]:
    """Columns (numpy / lists) of one month's records and the month's truth counts."""
    rng = _rng(spec["seed"], spec["district"], 1, year, month)
    days = [d for d in days if (d.year, d.month) == (year, month)]
    per_day = spec["ratings_per_day"] * scale
    lam = [per_day * spec["weekday"][DAYS[d.weekday()]]["volume"] * (spec["deadline"]["volume"] if d in deadline else 1)
           for d in days]
    counts = rng.poisson(lam)
    n = int(counts.sum())
    day = np.repeat(np.arange(len(days)), counts)
    day_date = np.array(days, dtype="datetime64[D]")[day]
    weekday = np.array([d.weekday() for d in days])[day]
    is_deadline = np.array([d in deadline for d in days])[day]
    # hour of service: the hourly profile cut to the day's opening hours
    hours = np.array(sorted(spec["hours"]), dtype=int)
    hour = np.empty(n, dtype=int)
    cb_hours = spec["_opening"]
    for wd in np.unique(weekday):
        idx = np.flatnonzero(weekday == wd)
        open_h, close_h = cb_hours[DAYS[wd]]
        ok = (hours >= open_h[0]) & (hours < close_h[0] + (close_h[1] > 0))
        p = np.array([spec["hours"][h] for h in hours], float) * ok
        hour[idx] = rng.choice(hours, size=len(idx), p=p / p.sum())
    minute_max = np.full(n, 60)
    for wd in np.unique(weekday):
        close_h = cb_hours[DAYS[wd]][1]
        minute_max[(weekday == wd) & (hour == close_h[0])] = max(close_h[1], 1)
    minute = np.floor(rng.random(n) * minute_max).astype(int)
    second = rng.integers(0, 60, n)
    service_time = day_date.astype("datetime64[s]") + (hour * 3600 + minute * 60 + second).astype("timedelta64[s]")
    window = rng.choice(len(st.windows), size=n, p=st.window_p)
    hall = st.window_hall[window]
    staff = st.staff_offset[window] + np.floor(rng.random(n) * st.staff_count[window]).astype(int)
    service = rng.choice(len(st.services), size=n, p=st.service_p)
    boost = spec["deadline"]["services"]
    if is_deadline.any():            # declaration services crowd the deadline days
        p = st.service_p * np.array([boost.get(s, 1.0) for s in st.services])
        idx = np.flatnonzero(is_deadline)
        service[idx] = rng.choice(len(st.services), size=len(idx), p=p / p.sum())
    channel = rng.choice(len(st.channels), size=n, p=st.channel_p)
    delay_h = st.channel_delay[channel] * rng.lognormal(0, 0.8, n)
    delay_s = np.where(st.channel_delay[channel] > 0, delay_h * 3600, rng.integers(5, 180, n)).astype(int)
    rated_at = service_time + delay_s.astype("timedelta64[s]")
    # P(good)
    inc = spec["incidents"]
    wd_effect = np.array([spec["weekday"].get(DAYS[k], {}).get("effect", 0.0) for k in range(7)])
    hour_effect = np.array([spec["hour_effect"].get(h, 0.0) for h in range(24)])
    eta = (_logit(spec["base_rate"]) + st.hall_effect[hall] + st.window_effect[window] + st.staff_effect[staff]
           + st.service_effect[service] + st.channel_effect[channel] + wd_effect[weekday] + hour_effect[hour]
           + spec["deadline"]["effect"] * is_deadline)
    wdrop = inc["window_drop"]
    w0 = _window_index(st, wdrop["hall"], wdrop["window"])
    start = np.datetime64(wdrop["start"])
    in_drop = (window == w0) & (day_date >= start) & (day_date < start + np.timedelta64(7 * wdrop["weeks"], "D"))
    eta = eta + wdrop["effect"] * in_drop
    pol = inc["policy_change"]
    s0 = st.services.index(pol["service"])
    after = (service == s0) & (day_date >= np.datetime64(pol["date"]))
    eta = eta + pol["effect"] * after
    good = rng.random(n) < 1 / (1 + np.exp(-eta))
    split = spec["rating_split"]
    u = rng.random(n)
    code = np.where(good, np.where(u < split["very_satisfied"], 5, 4),
                    np.where(u < split["fairly"], 3, np.where(u < split["fairly"] + split["dissatisfied"], 2, 1)))
    bad = code <= 2
    # reasons of bad ratings: more 'system' and 'waiting' at the deadline, 'policy' after the policy
    # change, 'attitude' and 'competence' at the window with the drop
    reasons = np.full(n, None, dtype=object)
    primary = np.full(n, -1)
    for i in np.flatnonzero(bad):
        p = REASON_P.copy()
        if is_deadline[i]:
            p[0] *= 2
            p[5] *= 4
        if after[i]:
            p[6] = 0.7
        if in_drop[i]:
            p[1] *= 3
            p[2] *= 3
        ticked = np.flatnonzero(rng.random(len(p)) < np.minimum(p, 0.95))
        if len(ticked) == 0:
            ticked = np.array([int(np.argmax(p * rng.random(len(p))))])
        reasons[i] = "、".join(REASONS[k] for k in ticked)
        primary[i] = ticked[0]
    # comments
    cshare = spec["comments"]
    pc_ = np.where(bad, cshare["bad"], np.where(code == 3, cshare["fair"], cshare["good"]))
    has_comment = rng.random(n) < pc_
    comment = np.full(n, None, dtype=object)
    personal = 0
    for i in np.flatnonzero(has_comment):
        if bad[i]:
            text = _pick(rng, COMMENTS_BAD[REASONS[primary[i]]])
        elif code[i] == 3:
            text = _pick(rng, COMMENTS_FAIR)
        else:
            text = _pick(rng, COMMENTS_GOOD)
        if rng.random() < cshare["personal_data"]:
            personal += 1
            if rng.random() < 0.5:
                text += "，请回电" + _mobile(rng)
            else:
                text += "，我的身份证号" + _id_number(rng)
        comment[i] = text
    # follow-up of bad ratings
    fu = spec["followup"]
    deadline_at = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    resolved_at = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    status = np.full(n, None, dtype=object)
    slow = inc["slow_followup"]
    medians = np.array([spec["halls"][h]["followup_median_hours"] for h in st.halls], float)
    sigmas = np.full(len(st.halls), fu["sigma"])
    slow_h = st.halls.index(slow["hall"])
    medians[slow_h], sigmas[slow_h] = slow["median_hours"], slow["sigma"]
    idx = np.flatnonzero(bad)
    hours_to = medians[hall[idx]] * np.exp(sigmas[hall[idx]] * rng.standard_normal(len(idx)))
    is_open = rng.random(len(idx)) < fu["open_share"]
    deadline_at[idx] = rated_at[idx] + np.timedelta64(fu["deadline_days"] * 86400, "s")
    done = rated_at[idx] + (hours_to * 3600).astype("timedelta64[s]")
    export = np.datetime64(spec["export_date"]).astype("datetime64[s]")
    is_open |= done > export
    resolved_at[idx] = np.where(is_open, np.datetime64("NaT"), done)
    status[idx] = np.where(is_open, np.where(rng.random(len(idx)) < 0.5, "整改中", "未处理"),
                           np.where(rng.random(len(idx)) < 0.8, "已整改", "已回访"))
    labels = {v: k for k, v in spec["_labels"].items()}
    rating = np.array([labels[c] for c in range(1, 6)], dtype=object)[code - 1]
    cols = {
        "case": np.arange(n), "rated_at": rated_at, "rating": rating, "channel": channel, "service": service,
        "hall": hall, "window": window, "staff": staff, "reasons": reasons, "comment": comment,
        "status": status, "resolved_at": resolved_at, "deadline": deadline_at,
        "kind": np.zeros(n, dtype=np.int8),              # 0 genuine, else the planted defect
        "good": good, "bad": bad, "in_drop": in_drop, "after_policy": after, "is_deadline": is_deadline,
    }
    cols = _plant_defects(spec, st, cols, rng, cb_hours, year, month)
    keep = cols["rated_at"] < np.datetime64(spec["period"]["end"]) + np.timedelta64(1, "D")
    keep |= np.isnat(cols["rated_at"])
    cols = {k: v[keep] for k, v in cols.items()}
    return cols, {"comments_with_personal_data": personal}


def _pick(rng, options):
    return options[int(rng.integers(0, len(options)))]


def _mobile(rng) -> str:
    return "1" + "3456789"[int(rng.integers(0, 7))] + "".join(str(d) for d in rng.integers(0, 10, 9))


def _id_number(rng) -> str:
    birth = dt.date(1950, 1, 1) + dt.timedelta(int(rng.integers(0, 365 * 50)))
    body = "510104" + birth.strftime("%Y%m%d") + f"{int(rng.integers(0, 1000)):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(a) * b for a, b in zip(body, weights)) % 11]


def _window_index(st: Structure, hall: str, window: str) -> int:
    h = st.halls.index(hall)
    return next(k for k, (w, hh) in enumerate(zip(st.windows, st.window_hall)) if w == window and hh == h)


KIND = {"duplicate": 1, "test_record": 2, "outside_hours": 3, "unparseable": 4}


def _plant_defects(spec, st, cols, rng, hours, year, month) -> dict:
    """Add records that are not ratings of a service: copies of rows with their kind set."""
    n = len(cols["rated_at"])
    rates = spec["defects"]
    parts = [cols]
    # repeats: the same case rated again 1-30 minutes later
    k = rng.binomial(n, rates["duplicate"])
    src = np.sort(rng.choice(n, size=k, replace=False))
    dup = {c: v[src].copy() for c, v in cols.items()}
    dup["rated_at"] = dup["rated_at"] + rng.integers(60, 1800, k).astype("timedelta64[s]")
    dup["kind"][:] = KIND["duplicate"]
    parts.append(dup)
    # test records, on-site outside opening hours, unreadable: new cases copied from random rows
    for kind in ("test_record", "outside_hours", "unparseable"):
        k = rng.binomial(n, rates[kind])
        src = np.sort(rng.choice(n, size=k, replace=False))
        extra = {c: v[src].copy() for c, v in cols.items()}
        extra["case"] = n + KIND[kind] * 10_000_000 + np.arange(k)
        extra["kind"][:] = KIND[kind]
        if kind == "test_record":
            which = rng.integers(0, 3, k)
            extra["staff"] = np.where(which == 0, -1, extra["staff"])          # staff id TEST01
            extra["service"] = np.where(which == 1, -1, extra["service"])      # service 测试事项
            extra["comment"] = np.array([_pick(rng, TEST_COMMENTS) if w == 2 else c
                                         for w, c in zip(which, extra["comment"])], dtype=object)
        elif kind == "outside_hours":    # a window pad at night or on Sunday
            extra["channel"][:] = st.channels.index("窗口评价器")
            day = extra["rated_at"].astype("datetime64[D]")
            sunday = rng.random(k) < 0.3
            day = np.where(sunday, day + ((6 - (day.astype(int) + 3) % 7) % 7).astype("timedelta64[D]"), day)
            night = np.where(rng.random(k) < 0.5, rng.integers(19 * 3600, 24 * 3600, k), rng.integers(0, 8 * 3600, k))
            extra["rated_at"] = day.astype("datetime64[s]") + night.astype("timedelta64[s]")
        else:
            no_time = rng.random(k) < 0.3
            extra["rated_at"] = np.where(no_time, np.datetime64("NaT"), extra["rated_at"])
            extra["rating"] = np.array([_pick(rng, BAD_RATINGS) for _ in range(k)], dtype=object)
            extra["rating"] = np.where(no_time, cols["rating"][src], extra["rating"])
        parts.append(extra)
    out = {c: np.concatenate([p[c] for p in parts]) for c in cols}
    t = out["rated_at"].astype("int64")
    t = np.where(np.isnat(out["rated_at"]), np.iinfo(np.int64).max, t)
    order = np.lexsort((out["kind"], out["case"], t))
    return {c: v[order] for c, v in out.items()}


def _table(spec, st, cols, year, month) -> pa.Table:
    n = len(cols["rated_at"])
    ym = f"{year}{month:02d}"
    seq = np.arange(n)
    rng = _rng(spec["seed"], spec["district"], 2, year, month)
    staff_ids = np.array(st.staff_ids + ["TEST01"], dtype=object)
    staff_names = np.array(st.staff_names + ["测试"], dtype=object)
    services = np.array(st.services + ["测试事项"], dtype=object)
    mobiles = pa.array(rng.integers(13_000_000_000, 19_999_999_999, n)).cast(pa.string())
    names = np.array(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)] + \
        np.array(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), n)]
    return pa.table({
        "评价编号": pc.binary_join_element_wise(f"PJ{ym}", pa.array(seq).cast(pa.string()), ""),
        "办件编号": pc.binary_join_element_wise(f"BJ{ym}", pa.array(cols["case"]).cast(pa.string()), ""),
        "评价时间": pa.array(cols["rated_at"], type=pa.timestamp("s"), from_pandas=True),
        "评价等级": pa.array(cols["rating"], type=pa.string()),
        "评价渠道": pa.array(np.array(st.channels, dtype=object)[cols["channel"]], type=pa.string()),
        "服务事项": pa.array(services[cols["service"]], type=pa.string()),
        "办理大厅": pa.array(np.array(st.halls, dtype=object)[st.window_hall[cols["window"]]], type=pa.string()),
        "窗口": pa.array(np.array(st.windows, dtype=object)[cols["window"]], type=pa.string()),
        "工作人员工号": pa.array(staff_ids[cols["staff"]], type=pa.string()),
        "工作人员姓名": pa.array(staff_names[cols["staff"]], type=pa.string()),
        "评价人姓名": pa.array(names, type=pa.string()),
        "评价人手机号": mobiles,
        "差评原因": pa.array(cols["reasons"], type=pa.string()),
        "评价内容": pa.array(cols["comment"], type=pa.string()),
        "整改状态": pa.array(cols["status"], type=pa.string()),
        "整改完成时间": pa.array(cols["resolved_at"], type=pa.timestamp("s"), from_pandas=True),
        "整改期限": pa.array(cols["deadline"], type=pa.timestamp("s"), from_pandas=True),
    })


def write(spec: dict, out, truth_path, *, scale: float = 1.0, labels: dict, opening_hours: dict) -> dict:
    """Write the stream (parquet, zstd, row groups in time order) and its truth file; return the truth."""
    spec = {**spec, "_labels": labels,
            "_opening": {d: tuple(tuple(int(x) for x in t.split(":")) for t in v) for d, v in opening_hours.items()}}
    st = Structure(spec)
    days, deadline = calendar(spec)
    out, truth_path = Path(out), Path(truth_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part")
    counts = {k: 0 for k in KIND}
    n_raw = n_genuine = personal = 0
    direct = _Direct()
    writer = None
    try:
        for year, month in sorted({(d.year, d.month) for d in days}):
            cols, info = _month_rows(spec, st, days, deadline, year, month, scale)
            table = _table(spec, st, cols, year, month)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd", use_dictionary=True,
                                          write_statistics=True)
            writer.write_table(table, row_group_size=131_072)
            n_raw += len(cols["kind"])
            n_genuine += int((cols["kind"] == 0).sum())
            for k, v in KIND.items():
                counts[k] += int((cols["kind"] == v).sum())
            personal += info["comments_with_personal_data"]
            direct.add(cols, deadline)
        writer.close()
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    truth = {
        "simulated": True,
        "spec": {k: v for k, v in spec.items() if not k.startswith("_")},
        "scale": scale,
        "n_raw": n_raw,
        "n_genuine": n_genuine,
        "planted_counts": counts,
        "comments_with_personal_data": personal,
        "incidents": _incidents(spec, st, direct),
        "staff_ids": st.staff_ids,
    }
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return truth


class _Direct:
    """Direct counts (good, n) of the genuine ratings, for the truth file."""

    def __init__(self):
        self.deadline = [0, 0]      # rated on a deadline day / on another day
        self.other = [0, 0]
        self.drop = [0, 0]          # the window during its drop (by day of service)
        self.policy = [0, 0]        # the service after the policy change (by day of service)

    def add(self, cols, deadline_days):
        g = cols["kind"] == 0
        good = cols["good"][g]
        days = np.array(sorted(deadline_days), dtype="datetime64[D]")
        on_deadline = np.isin(cols["rated_at"][g].astype("datetime64[D]"), days)
        for target, mask in ((self.deadline, on_deadline), (self.other, ~on_deadline),
                             (self.drop, cols["in_drop"][g]), (self.policy, cols["after_policy"][g])):
            target[0] += int(good[mask].sum())
            target[1] += int(mask.sum())


def _incidents(spec, st, direct: _Direct) -> dict:
    inc = spec["incidents"]
    wd, pol, slow = inc["window_drop"], inc["policy_change"], inc["slow_followup"]
    start = dt.date.fromisoformat(wd["start"])

    def rate(x):
        return round(x[0] / x[1], 6) if x[1] else None

    return {
        "window_drop": {"hall": wd["hall"], "window": wd["window"], "start": wd["start"],
                        "end": (start + dt.timedelta(7 * wd["weeks"] - 1)).isoformat(), "logit_effect": wd["effect"],
                        "ratings_during": direct.drop[1], "good_rate_during": rate(direct.drop),
                        "note": "by day of service; SMS and online ratings arrive up to days later"},
        "policy_change": {"service": pol["service"], "date": pol["date"], "logit_effect": pol["effect"],
                          "ratings_after": direct.policy[1], "good_rate_after": rate(direct.policy)},
        "peak_day": {"what": f"last {spec['deadline']['days']} working days of each month (declaration deadline)",
                     "volume_factor": spec["deadline"]["volume"], "logit_effect": spec["deadline"]["effect"],
                     "good_rate_deadline_days": rate(direct.deadline), "good_rate_other_days": rate(direct.other),
                     "ratings_deadline_days": direct.deadline[1], "ratings_other_days": direct.other[1],
                     "note": "direct counts of the genuine ratings by day of rating"},
        "slow_followup": {"hall": slow["hall"], "median_hours": slow["median_hours"],
                          "other_halls_median_hours": {h: spec["halls"][h]["followup_median_hours"]
                                                       for h in st.halls if h != slow["hall"]},
                          "deadline_days": spec["followup"]["deadline_days"]},
    }


def write_from_spec(spec_path, root=".", *, scale: float = 1.0, out=None, truth=None, **overrides) -> dict:
    """Simulate the stream a spec describes (paths relative to `root`); `overrides` replace spec keys
    (e.g. seed, ratings_per_day, period) for small test streams."""
    from . import codebook

    root = Path(root)
    spec = {**load_spec(spec_path), **overrides}
    cb = codebook.load(root / spec["codebook"])
    return write(spec, out or root / spec["out"], truth or root / spec["truth"], scale=scale,
                 labels=cb.labels, opening_hours=cb.opening_hours)
