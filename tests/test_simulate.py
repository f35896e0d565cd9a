"""The simulated default district reproduces the seed paper's rates; regeneration is exact."""

import hashlib
import json

import numpy as np
import pytest

from csi import clean, codebook, exports, privacy, simulate, validate

from conftest import CODEBOOK, RAW_A, ROOT

SPEC = simulate.load_spec(ROOT / "config/simulation.yaml")
CB = codebook.load(CODEBOOK)
RULES = {"min_duration_seconds": 90, "straightlining": {"min_items": 8, "require_reversed": True},
         "max_item_missing": 0.2}


@pytest.fixture(scope="module")
def clean_a(tmp_path_factory):
    salt = privacy.load_salt(tmp_path_factory.mktemp("s") / "salt")
    v = validate.validate(exports.read(RAW_A), CB, salt=salt)
    return clean.clean(v.coded, CB, RULES).data


def within_sampling_error(achieved, target, n, z=3.0):
    se = np.sqrt(target * (1 - target) / n)
    return abs(achieved - target) <= z * se, f"achieved {achieved:.3f} vs target {target:.3f} (n={n}, SE {se:.3f})"


def paper_targets():
    for item, t in SPEC["targets"].items():
        if t["source"].startswith("assumed"):
            continue
        if "by_type" in t:
            for g, p in t["by_type"].items():
                yield item, g, "top_box", p
        elif "overall" in t:
            yield item, None, "top_box", t["overall"]
        else:
            for code, p in t["categories"].items():
                yield item, None, code, p


@pytest.mark.parametrize("item,group,what,target", list(paper_targets()))
def test_paper_rates_reproduced_within_sampling_error(clean_a, item, group, what, target):
    d = clean_a if group is None else clean_a[clean_a["resp_type"] == group]
    x = d[item].dropna()
    if what == "top_box":
        achieved = x.isin(CB.scale_of(item).top_box).mean()
    else:
        achieved = (x == what).mean()
    ok, msg = within_sampling_error(achieved, target, len(x))
    assert ok, f"{item} {group or 'overall'}: {msg}"


@pytest.mark.parametrize("option,group", [("channel_online", "unit"), ("channel_online", "individual")])
def test_online_platform_use_by_type(clean_a, option, group):
    target = SPEC["channels"][option][group]          # 88% units, 70% individuals
    x = clean_a.loc[clean_a["resp_type"] == group, option].dropna()
    ok, msg = within_sampling_error(x.mean(), target, len(x))
    assert ok, msg


def test_unit_share_and_size(clean_a):
    assert len(clean_a) == 1000
    ok, msg = within_sampling_error((clean_a["resp_type"] == "unit").mean(), 0.70, 1000)
    assert ok, msg


def test_population_model_hits_targets_exactly():
    """Calibration itself (no sampling): thresholds reproduce every target in the population."""
    pop = simulate.build_population(SPEC, CB)
    w = SPEC["districts"]["chengdu_a"]["unit_share"]
    for item, t in SPEC["targets"].items():
        u, i = pop.top_box(item, "unit"), pop.top_box(item, "individual")
        if "by_type" in t:   # one latent gap per construct: a least-squares compromise
            assert u == pytest.approx(t["by_type"]["unit"], abs=0.006)
            assert i == pytest.approx(t["by_type"]["individual"], abs=0.006)
        elif "overall" in t:
            assert w * u + (1 - w) * i == pytest.approx(t["overall"], abs=1e-9)
        else:
            scale = CB.scale_of(item)
            mix = w * pop.category_probs(item, "unit") + (1 - w) * pop.category_probs(item, "individual")
            for code, p in t["categories"].items():
                assert mix[code - scale.min] == pytest.approx(p, abs=1e-9)


def test_measurement_is_invariant_across_types_and_districts():
    """Same loadings and thresholds everywhere; only latent means differ (documented truth)."""
    truths = [json.loads((ROOT / f"data/raw/{d}/truth.json").read_text()) for d in SPEC["districts"]]
    assert all(t["simulated"] for t in truths)
    assert all(t["population"]["thresholds"] == truths[0]["population"]["thresholds"] for t in truths)
    means = [t["population"]["latent_means"]["unit"]["LOC"] for t in truths]
    assert len(set(means)) == len(means)   # districts differ in true service quality


def test_regeneration_is_byte_identical(tmp_path):
    """The committed export of a district is exactly what the simulator writes from the spec."""
    simulate.write_district(SPEC, "district_c", tmp_path, root=ROOT)
    for name in ("export.xlsx", "truth.json"):
        new = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        old = hashlib.sha256((ROOT / "data/raw/district_c" / name).read_bytes()).hexdigest()
        assert new == old, name


def test_export_looks_like_a_platform_export():
    raw = exports.read(RAW_A).frame
    assert raw.columns[:3].tolist() == ["序号", "提交答卷时间", "所用时间"]
    assert raw["所用时间"].str.endswith("秒").all()
    signs = raw["9. 您对服务大厅的标识指引是否满意？"]
    assert {"非常满意", "比较满意", "(跳过)"} <= set(signs.dropna())
    assert raw["31. 您的手机号码："].str.fullmatch(r"1[3-9]\d{9}").all()
    assert raw["32. 您的身份证号码："].str.fullmatch(r"\d{17}[\dX]").all()
    assert set(raw["5. 您通过哪些渠道办理过社保业务？(多选):网上服务平台"]) == {"0", "1"}   # cells as text


def test_data_readme_lists_every_target():
    readme = (ROOT / "data/README.md").read_text("utf-8")
    assert "SIMULATED" in readme
    for item, t in SPEC["targets"].items():
        assert f"`{item}`" in readme or f"`{item.split('_')[0]}_" in readme, item
        if not t["source"].startswith("assumed"):
            quote = t["source"].split("(")[0].strip().strip(".")[:40]
            assert quote in readme.replace("…", "...") or quote[:25] in readme, item
