"""Write the SIMULATED second questionnaire used to show (and test) adapting the pipeline:
data/raw/county_x/export.csv — another survey platform's CSV in GB18030, other wording and
order, a 1-10 scale exported as numbers (99 = not applicable), no respondent type, and other
constructs (access, staff, digital services -> satisfaction -> loyalty).

    python scripts/simulate_county_survey.py [OUT_DIR]   # byte-identical on every run
"""

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data/raw/county_x"
SEED = 2024
N = 500

# construct -> (column header, loading); order below is the export's column order
ITEMS = {
    "cs_overall": ("CS", "总体来看，您给本中心的社保服务打几分？", 0.85),
    "acc_distance": ("ACC", "办事地点是否方便到达（1-10分）", 0.70),
    "stf_courtesy": ("STF", "窗口人员是否礼貌热情（1-10分）", 0.80),
    "dig_app": ("DIG", "“社保通”手机APP是否好用（1-10分）", 0.80),
    "acc_hours": ("ACC", "办公时间安排是否合理（1-10分）", 0.75),
    "stf_knowledge": ("STF", "窗口人员业务是否熟练（1-10分）", 0.85),
    "dig_online": ("DIG", "网上可办理的事项是否够多（1-10分）", 0.75),
    "acc_once": ("ACC", "是否做到“最多跑一次”（1-10分）", 0.80),
    "stf_explain": ("STF", "政策解释是否清楚（1-10分）", 0.75),
    "dig_stable": ("DIG", "系统是否稳定、不卡顿（1-10分）", 0.70),
    "stf_fair": ("STF", "办事是否公平公正（1-10分）", 0.70),
    "cs_expect": ("CS", "与您事先的期望相比打几分？", 0.80),
    "cs_peer": ("CS", "与其他政务服务相比打几分？", 0.75),
    "loy_recommend": ("LOY", "您会向亲友推荐本中心吗？（1-10分）", 0.85),
    "loy_return": ("LOY", "下次办事您还愿意来本中心吗？（1-10分）", 0.80),
}
PATHS = {"CS": {"ACC": 0.30, "STF": 0.35, "DIG": 0.20}, "LOY": {"CS": 0.70}}
TOWNS = ["城关镇", "新华乡", "东山镇", "西河乡"]


def main(out: Path = OUT) -> None:
    rng = np.random.default_rng(SEED)
    drivers = ["ACC", "STF", "DIG"]
    phi = np.full((3, 3), 0.4) + 0.6 * np.eye(3)
    n_all = N + 25
    eta = dict(zip(drivers, rng.multivariate_normal(np.zeros(3), phi, n_all).T))
    g = np.array([PATHS["CS"][d] for d in drivers])
    eta["CS"] = sum(PATHS["CS"][d] * eta[d] for d in drivers) + rng.normal(0, np.sqrt(1 - g @ phi @ g), n_all)
    eta["LOY"] = 0.70 * eta["CS"] + rng.normal(0, np.sqrt(1 - 0.49), n_all)
    rows = {}
    for code, (construct, header, lam) in ITEMS.items():
        ystar = lam * eta[construct] + rng.normal(0, np.sqrt(1 - lam ** 2), n_all)
        rows[header] = np.clip(np.rint(7.6 + 1.5 * ystar), 1, 10).astype(int)
    frame = pd.DataFrame(rows)
    for code in ("dig_app", "dig_online", "dig_stable"):          # non-users: not applicable
        frame.loc[rng.random(n_all) < 0.08, ITEMS[code][1]] = 99
    start = dt.datetime(2024, 5, 6, 9)
    times = sorted(start + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 60 * 24 * 20, n_all))
    frame.insert(0, "答卷编号", [f"QX{k:05d}" for k in range(1, n_all + 1)])
    frame.insert(1, "开始答题时间", [t.strftime("%Y/%m/%d %H:%M") for t in times])
    durations = rng.integers(150, 600, n_all)
    durations[N:N + 15] = rng.integers(20, 80, 15)                  # speeders
    frame.insert(2, "答题用时（秒）", durations)
    frame.insert(3, "所在乡镇", rng.choice(TOWNS, n_all))
    frame.insert(4, "性别", rng.choice(["男", "女"], n_all))
    frame["联系电话"] = ["1" + rng.choice(list("35789")) + "".join(map(str, rng.integers(0, 10, 9)))
                     for _ in range(n_all)]
    # the last 10 rows: the same people submitting again (same phone, same answers)
    dup = frame.iloc[rng.choice(N, 10, replace=False)].copy()
    dup["答卷编号"] = [f"QX{k:05d}" for k in range(N + 16, N + 26)]
    frame = pd.concat([frame.iloc[:N + 15], dup], ignore_index=True)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "export.csv", index=False, encoding="gb18030", lineterminator="\r\n")
    truth = {"simulated": True, "seed": SEED, "n_genuine": N,
             "planted_counts": {"genuine": N, "speeder": 15, "duplicate": 10},
             "structural": PATHS, "driver_correlation": 0.4,
             "loadings": {code: lam for code, (_, _, lam) in ITEMS.items()}}
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
