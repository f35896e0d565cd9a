"""Seeded simulator of raw survey exports, calibrated to the seed study's published rates.

A population CSI model (latent drivers -> satisfaction -> complaint, trust) is drawn per
respondent; each item's latent response y* = loading * construct + error is cut at thresholds
chosen so that the population top-box rates reproduce the targets in config/simulation.yaml.
Insured units and individuals differ only in latent means (the measurement is invariant).
The export is written as a Chinese survey platform writes it, with planted defects.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from scipy import optimize, stats

from .codebook import Codebook, SafeLoader
from . import codebook as codebook_mod

DRIVERS = ("LOC", "INF", "HND", "INT")
LATENTS = DRIVERS + ("SAT", "CMP", "TRU")
GROUPS = ("unit", "individual")


def load_spec(path) -> dict:
    return yaml.load(Path(path).read_text("utf-8"), Loader=SafeLoader)


def rng_for(seed: int, district: str) -> np.random.Generator:
    """One independent stream per district: adding a district changes no other."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(district.encode())]))


# --- population model -------------------------------------------------------------------------

@dataclass
class Population:
    """The known truth: latent model, group means and item thresholds."""

    cb: Codebook
    loadings: dict[str, float]
    construct_of: dict[str, str]
    corr: float
    structural: dict[str, dict[str, float]]
    individual_gap: dict[str, float]     # driver -> individuals' mean minus units' (SD units)
    thresholds: dict[str, list[float]]   # item -> ascending cut points on y*

    def latent_means(self, group: str, shift: dict | None = None) -> dict[str, float]:
        m = {k: (self.individual_gap[k] if group == "individual" else 0.0) + (shift or {}).get(k, 0.0)
             for k in DRIVERS}
        for k in ("SAT", "CMP", "TRU"):
            m[k] = sum(b * m[src] for src, b in self.structural[k].items())
        return m

    def residual_variances(self) -> dict[str, float]:
        """Disturbance variances that give every latent variance 1 within a group."""
        g = np.array([self.structural["SAT"][k] for k in DRIVERS])
        phi = self.driver_cov()
        b_cs = self.structural["CMP"]["SAT"]
        b_ts, b_tc = self.structural["TRU"]["SAT"], self.structural["TRU"]["CMP"]
        return {"SAT": 1 - g @ phi @ g, "CMP": 1 - b_cs ** 2,
                "TRU": 1 - (b_ts ** 2 + b_tc ** 2 + 2 * b_ts * b_tc * b_cs)}

    def driver_cov(self) -> np.ndarray:
        k = len(DRIVERS)
        return np.full((k, k), self.corr) + (1 - self.corr) * np.eye(k)

    def latent_covariance(self) -> np.ndarray:
        """Within-group covariance of LATENTS (drivers, SAT, CMP*, TRU): every variance is 1."""
        k = {v: i for i, v in enumerate(LATENTS)}
        B = np.zeros((len(LATENTS), len(LATENTS)))
        for dst, srcs in self.structural.items():
            for src, b in srcs.items():
                B[k[dst], k[src]] = b
        psi = np.zeros_like(B)
        psi[:4, :4] = self.driver_cov()
        for v, r in self.residual_variances().items():
            psi[k[v], k[v]] = r
        C = np.linalg.inv(np.eye(len(LATENTS)) - B)
        return C @ psi @ C.T

    def item_covariance(self) -> tuple[list[str], np.ndarray]:
        """Population covariance of the continuous responses y* (before cutting into categories)."""
        items = list(self.loadings)
        lam = np.zeros((len(items), len(LATENTS)))
        for r, item in enumerate(items):
            lam[r, LATENTS.index(self.construct_of[item])] = self.loadings[item]
        theta = np.diag([1 - self.loadings[i] ** 2 for i in items])
        return items, lam @ self.latent_covariance() @ lam.T + theta

    def item_mean(self, item: str, group: str, shift=None) -> float:
        return self.loadings[item] * self.latent_means(group, shift)[self.construct_of[item]]

    def category_probs(self, item: str, group: str, shift=None) -> np.ndarray:
        """P(code = min..max) within a group: y* ~ N(item mean, 1)."""
        cdf = stats.norm.cdf(np.asarray(self.thresholds[item]) - self.item_mean(item, group, shift))
        return np.diff(np.concatenate([[0.0], cdf, [1.0]]))

    def top_box(self, item: str, group: str, shift=None) -> float:
        scale = self.cb.scale_of(item)
        p = self.category_probs(item, group, shift)
        return float(sum(p[c - scale.min] for c in scale.top_box))

    def draw_latents(self, rng, groups: np.ndarray, shift: dict) -> dict[str, np.ndarray]:
        n = len(groups)
        means = np.array([[self.latent_means(g, shift)[k] for k in DRIVERS] for g in GROUPS])
        idx = (groups == "individual").astype(int)
        z = rng.multivariate_normal(np.zeros(len(DRIVERS)), self.driver_cov(), size=n, method="cholesky")
        eta = {k: z[:, i] + means[idx, i] for i, k in enumerate(DRIVERS)}
        psi = self.residual_variances()
        eta["SAT"] = sum(self.structural["SAT"][k] * eta[k] for k in DRIVERS) + rng.normal(0, np.sqrt(psi["SAT"]), n)
        eta["CMP"] = self.structural["CMP"]["SAT"] * eta["SAT"] + rng.normal(0, np.sqrt(psi["CMP"]), n)
        eta["TRU"] = (self.structural["TRU"]["SAT"] * eta["SAT"] + self.structural["TRU"]["CMP"] * eta["CMP"]
                      + rng.normal(0, np.sqrt(psi["TRU"]), n))
        return eta

    def draw_items(self, rng, eta: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Codes (after reverse coding, i.e. higher = better, except the complaint item)."""
        out = {}
        for item, lam in self.loadings.items():
            scale = self.cb.scale_of(item)
            ystar = lam * eta[self.construct_of[item]] + rng.normal(0, np.sqrt(max(1 - lam ** 2, 0)), len(eta["SAT"]))
            out[item] = scale.min + np.searchsorted(self.thresholds[item], ystar)
        return out

    def truth(self, spec_district: dict) -> dict:
        shift = spec_district["shift"]
        w = spec_district["unit_share"]
        rates = {}
        for item in self.loadings:
            by = {g: round(self.top_box(item, g, shift), 4) for g in GROUPS}
            rates[item] = {**by, "overall": round(w * by["unit"] + (1 - w) * by["individual"], 4)}
        return {
            "latent_means": {g: {k: round(v, 6) for k, v in self.latent_means(g, shift).items()} for g in GROUPS},
            "driver_correlation": self.corr,
            "structural": self.structural,
            "residual_variances": {k: round(v, 6) for k, v in self.residual_variances().items()},
            "loadings": self.loadings,
            "thresholds": {k: [round(t, 6) for t in v] for k, v in self.thresholds.items()},
            "top_box_rates": rates,
        }


def _category_targets(item: str, target: dict, scale, w: float, top_share: float,
                      lower_split: list[float]) -> np.ndarray:
    """Overall population probability of each code min..max for one item."""
    k = scale.max - scale.min + 1
    if "categories" in target:
        return np.array([target["categories"].get(c, 0.0) for c in range(scale.min, scale.max + 1)])
    p = target["overall"] if "overall" in target else (
        w * target["by_type"]["unit"] + (1 - w) * target["by_type"]["individual"])
    probs = np.zeros(k)
    top = sorted(scale.top_box, reverse=True)
    if len(top) == 1:
        probs[top[0] - scale.min] = p
    else:
        probs[top[0] - scale.min] = p * top_share
        for c in top[1:]:
            probs[c - scale.min] = p * (1 - top_share) / (len(top) - 1)
    rest = [c for c in range(scale.max, scale.min - 1, -1) if c not in scale.top_box]
    split = np.array(lower_split[: len(rest)], dtype=float)
    split = split / split.sum()
    for c, s in zip(rest, split):
        probs[c - scale.min] = (1 - p) * s
    return probs


def build_population(spec: dict, cb: Codebook) -> Population:
    pop = spec["population"]
    loadings = dict(pop["loadings"])
    construct_of = {i: cb.by_code[i].construct for i in loadings}
    gaps = {k: -float(v) for k, v in pop["individual_gap"].items()}
    # Fit the unit-vs-individual gap of LOC and INF to the by-type targets (probit scale).
    for k in DRIVERS:
        by_type = [(i, t["by_type"]) for i, t in spec["targets"].items()
                   if "by_type" in t and construct_of[i] == k]
        if by_type:
            d = [(stats.norm.ppf(bt["unit"]) - stats.norm.ppf(bt["individual"])) / loadings[i]
                 for i, bt in by_type]
            gaps[k] = -float(np.mean(d))
    provisional = Population(cb, loadings, construct_of, pop["driver_correlation"],
                             pop["structural"], gaps, {})
    w = spec["districts"][next(iter(spec["districts"]))]["unit_share"]  # calibrated district
    thresholds = {}
    for item in loadings:
        scale = cb.scale_of(item)
        probs = _category_targets(item, spec["targets"][item], scale, w,
                                  pop["top_category_share"], pop["lower_split"])
        means = [provisional.item_mean(item, g) for g in GROUPS]
        weights = [w, 1 - w]
        cuts = []
        for c in range(scale.min + 1, scale.max + 1):
            p_ge = probs[c - scale.min:].sum()  # P(code >= c)

            def gap(t):
                return sum(wt * stats.norm.sf(t - m) for wt, m in zip(weights, means)) - p_ge

            cuts.append(float(optimize.brentq(gap, -12, 12, xtol=1e-12)))
        thresholds[item] = cuts
    provisional.thresholds = thresholds
    return provisional


# --- respondents and the export ---------------------------------------------------------------

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅玉兰志鹏宇浩然欣怡子涵雨轩")
SUGGESTIONS = ["希望增加自助服务终端", "网上平台有时打不开", "大厅座位太少", "工作人员态度很好，点赞",
               "希望延长周末办理时间", "排队时间有点长", "政策解读可以再通俗一些", "标识不够清楚，找窗口花了很久",
               "希望微信公众号能及时更新", "整体满意"]
AGES = {"18-29岁": (18, 29), "30-39岁": (30, 39), "40-49岁": (40, 49), "50-59岁": (50, 59), "60岁及以上": (60, 75)}
DEMOGRAPHICS = {
    "gender": {"unit": [0.40, 0.60], "individual": [0.50, 0.50]},
    "age_group": {"unit": [0.30, 0.38, 0.22, 0.10, 0.00], "individual": [0.15, 0.22, 0.25, 0.23, 0.15]},
    "education": {"unit": [0.03, 0.12, 0.35, 0.50], "individual": [0.25, 0.35, 0.22, 0.18]},
}


def _id_number(rng, birth: dt.date) -> str:
    body = "5101" + rng.choice(["04", "05", "06", "07", "08", "12", "13", "14"]) + birth.strftime("%Y%m%d") \
        + f"{rng.integers(0, 1000):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(a) * b for a, b in zip(body, weights)) % 11]
    return body + check


def _person(rng, age_label: str, year: int) -> dict:
    lo, hi = AGES[age_label]
    age = int(rng.integers(lo, hi + 1))
    birth = dt.date(year - age, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365)))
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN, size=int(rng.integers(1, 3))))
    mobile = "1" + rng.choice(list("35789")) + "".join(map(str, rng.integers(0, 10, 9)))
    ip = f"{rng.choice([117, 171, 182, 223])}.{rng.integers(1, 255)}.{rng.integers(1, 255)}.{rng.integers(1, 255)}(四川-成都)"
    return {"name": str(name), "mobile": mobile, "id_number": _id_number(rng, birth), "ip": ip}


def simulate_district(spec: dict, cb: Codebook, district: str, pop: Population | None = None):
    """Return (header, rows, truth) for one district's raw export."""
    pop = pop or build_population(spec, cb)
    d = spec["districts"][district]
    rng = rng_for(spec["seed"], district)
    n = d["n"]
    start = dt.datetime.fromisoformat(spec["fieldwork"]["start"])
    end = dt.datetime.fromisoformat(spec["fieldwork"]["end"])
    year = start.year

    def draw_genuine(m):
        groups = np.where(rng.random(m) < d["unit_share"], "unit", "individual")
        eta = pop.draw_latents(rng, groups, d["shift"])
        codes = pop.draw_items(rng, eta)
        people = []
        for i in range(m):
            g = groups[i]
            r = {"resp_type": g, "items": {k: int(v[i]) for k, v in codes.items()}}
            for col, probs in DEMOGRAPHICS.items():
                labels = list(cb.by_code[col].value_labels)
                r[col] = labels[rng.choice(len(labels), p=probs[g])]
            r["options"] = {k: int(rng.random() < v[g]) for k, v in spec["channels"].items()}
            r["attention"] = cb.role("attention_check")[0].correct
            r["duration"] = int(max(120, rng.lognormal(np.log(300), 0.35)))
            r["suggestion"] = str(rng.choice(SUGGESTIONS)) if rng.random() < 0.15 else None
            r["source"] = rng.choice(["微信", "手机提交", "链接"], p=[0.6, 0.3, 0.1])
            r.update(_person(rng, r["age_group"], year))
            people.append(r)
        return people

    rates = spec["defects"]
    genuine = draw_genuine(n)
    for r in genuine:
        r["kind"] = "genuine"
    workdays = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)
                if (start + dt.timedelta(days=i)).weekday() < 5]

    def when():  # office hours of a working day, as in an on-site survey
        day = workdays[int(rng.integers(0, len(workdays)))]
        return day + dt.timedelta(seconds=int(rng.integers(9 * 3600, 17 * 3600 + 1800)))

    for r in genuine:
        r["time"] = when()

    def count(key):
        return int(round(rates[key] * n))

    item_codes = list(pop.loadings)
    grid = [c.code for c in cb.columns if c.battery and c.role in ("item", "attention_check")]
    extra = []
    for kind in ("speeder", "straight_liner", "attention_fail", "heavy_skipper"):
        for r in draw_genuine(count(kind)):
            r["kind"] = kind
            r["time"] = when()
            extra.append(r)
    for r in extra:
        if r["kind"] == "speeder":
            r["duration"] = int(rng.integers(25, 86))
            r["random_answers"] = True
        elif r["kind"] == "straight_liner":
            r["grid_position"] = int(rng.choice([5, 4, 3], p=[0.6, 0.3, 0.1]))
        elif r["kind"] == "attention_fail":
            r["attention"] = str(rng.choice(["非常满意", "比较满意", "一般"]))
        elif r["kind"] == "heavy_skipper":
            r["skip"] = list(rng.choice(item_codes, size=int(0.4 * len(item_codes)) + 1, replace=False))
    for r in rng.choice(genuine, size=count("light_skip"), replace=False):
        r["skip"] = list(rng.choice(item_codes, size=int(rng.integers(1, 3)), replace=False))
    for r in rng.choice(genuine, size=count("stray_code"), replace=False):
        r["stray"] = (str(rng.choice(item_codes)), int(rng.choice([0, 6, 9])))
    dups = []
    for r in rng.choice(genuine, size=count("duplicate"), replace=False):
        copy = {k: v for k, v in r.items() if k not in ("kind", "time", "duration")}
        copy.update(kind="duplicate", time=r["time"] + dt.timedelta(seconds=int(rng.integers(60, 1800))),
                    duration=int(max(120, rng.lognormal(np.log(300), 0.35))))
        dups.append(copy)
    everyone = sorted(genuine + extra + dups, key=lambda r: (r["time"], r["kind"]))

    header = [c.header for c in cb.columns]
    rows, planted = [], {}
    for serial, r in enumerate(everyone, start=1):
        rows.append(_export_row(r, serial, cb, rng, grid))
        planted.setdefault(r["kind"], []).append(serial + 1)  # spreadsheet row: header is row 1
    truth = {
        "simulated": True,
        "district": district,
        "seed": spec["seed"],
        "n_genuine": n,
        "unit_share": d["unit_share"],
        "shift": d["shift"],
        "population": pop.truth(d),
        "planted_rows": {k: v for k, v in sorted(planted.items()) if k != "genuine"},
        "planted_counts": {k: len(v) for k, v in sorted(planted.items())},
        "light_skip_rows": sorted(i + 2 for i, r in enumerate(everyone) if r["kind"] == "genuine" and "skip" in r),
        "stray_code_rows": sorted(i + 2 for i, r in enumerate(everyone) if "stray" in r),
    }
    return header, rows, truth


def _export_row(r: dict, serial: int, cb: Codebook, rng, grid: list[str]) -> list:
    row = []
    for col in cb.columns:
        code = col.code
        if col.role == "id":
            v = serial
        elif col.role == "timestamp":
            v = r["time"]
        elif col.role == "duration":
            v = f"{r['duration']}秒"
        elif code == "source":
            v = str(r["source"])
        elif col.role == "pii":
            v = r[code]
        elif col.role == "respondent_type":
            v = {val: lab for lab, val in col.value_labels.items()}[r["resp_type"]]
        elif col.role == "demographic":
            v = r[code]
        elif col.question:
            v = r["options"][code]
        elif col.role == "free_text":
            v = r["suggestion"]
            if v and rng.random() < 0.1:  # personal data typed into free text
                v = f"{v}，有问题请打我电话{r['mobile']}"
        elif col.role in ("item", "attention_check"):
            scale = cb.scales[col.scale]
            labels = {c: lab for lab, c in scale.labels.items()}
            if r.get("random_answers"):
                v = labels[int(rng.integers(scale.min, scale.max + 1))]
            elif "grid_position" in r and code in grid:
                v = labels[r["grid_position"]]
            elif col.role == "attention_check":
                v = r["attention"]
            else:
                c = r["items"][code]
                v = labels[scale.reverse(c) if col.reverse else c]
            if code in r.get("skip", []):
                v = "(跳过)" if rng.random() < 0.8 else -3
            if r.get("stray", (None,))[0] == code:
                v = r["stray"][1]
        else:
            raise ValueError(f"simulator does not know how to fill column {code}")
        row.append(v)
    return row


def write_xlsx(header: list, rows: list, path, when: dt.datetime) -> None:
    """Write an .xlsx that is byte-identical for identical content (fixed zip and core dates)."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.properties.creator = "csi simulator (SIMULATED DATA)"
    tmp = Path(path).with_suffix(".tmp.xlsx")
    wb.save(tmp)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(src.namelist()):
            data = src.read(name)
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
    tmp.unlink()


def write_district(spec: dict, district: str, out_dir, root=".") -> dict:
    """Simulate one district and write export.xlsx + truth.json into out_dir."""
    import json

    cb = codebook_mod.load(Path(root) / spec["codebook"])
    header, rows, truth = simulate_district(spec, cb, district)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    when = dt.datetime.fromisoformat(spec["fieldwork"]["end"])
    write_xlsx(header, rows, out / "export.xlsx", when)
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return truth
