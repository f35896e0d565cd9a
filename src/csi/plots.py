"""Figures (matplotlib/seaborn). Each is saved as PNG and PDF with fixed metadata."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# seaborn is imported only where a heatmap needs it: it loads scipy.stats (~1 s per notebook).

plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 200, "font.size": 9, "axes.titlesize": 10,
                     "svg.hashsalt": "csi", "pdf.fonttype": 42})


# The words figures draw themselves, in the report's languages (titles come from the notebooks,
# through say() as well; item and construct labels from the codebook).
TEXT = {
    "likert_axis": ("share of respondents (%): answers {lo}–{hi}, below the middle left of 0{middle}",
                    "受访者占比（%）：答案 {lo}–{hi}，低于中间值者在 0 左侧{middle}"),
    "likert_middle": (", the middle answer split", "，中间答案两侧各半"),
    "lowest": (" (lowest)", "（最低）"),
    "highest": (" (highest)", "（最高）"),
    "all_respondents": ("all respondents", "全部受访者"),
    "top_box_axis": ("top-box share (%), 95% Wilson CI", "最高档占比（%），95% Wilson 置信区间"),
    "ipma_x": ("importance: total effect on {target} (index points per point)",
               "重要性：对{target}的总效应（每提高 1 分带来的指数点数）"),
    "ipma_y": ("performance: index (0-100)", "表现：指数（0–100）"),
    "ipma_note": ("(+gain): potential gain; dashed: equal gain, lower right gains more",
                  "（+收益）：潜在收益；虚线：等收益线，越靠右下收益越大"),
    "not_significant": (" (n.s.)", "（不显著）"),
    "improper": ("IMPROPER SOLUTION: not interpretable (see the diagnosis in fit.json)",
                 "解不可接受：不可解释（诊断见 fit.json）"),
    "forest_axis": ("{construct} index (0-100), bootstrap 95% CI", "{construct}指数（0–100），自助法 95% 置信区间"),
    "not_comparable": ("not comparable across districts (see invariance)", "各区之间不可比（见测量不变性）"),
    "heatmap_bar": ("top-box share (%); centre = criterion {level:.0%}", "最高档占比（%）；中心 = 标准 {level:.0%}"),
    "title_top_box_by_type": ("Top-box share by respondent type", "按受访者类型的最高档占比"),
    "title_top_box": ("Top-box share", "最高档占比"),
    "title_likert": ("Answer distribution per item", "各题项的答案分布"),
    "title_htmt": ("HTMT (cutoffs .85 / .90)", "HTMT（临界值 .85 / .90）"),
    "title_paths": ("Standardized path coefficients", "标准化路径系数"),
    "title_ipma": ("Importance-performance map", "重要性—表现图"),
    "ipma_withheld": ("Importance-performance map withheld: the solution is not admissible (see above).",
                      "不给出重要性—表现图：解不可接受（见上文）。"),
    "ipma_no_driver": ("No driver construct (codebook kind: driver) has a path to the target.",
                       "没有驱动构念（codebook 中 kind: driver）指向目标构念的路径。"),
    "title_forest": ("{construct} index by district", "各区{construct}指数"),
    "title_criterion": ("Top-box share per indicator (criterion {level:.0%})", "各指标最高档占比（标准 {level:.0%}）"),
    "title_trend": ("Good-rating rate per week", "每周好评率"),
    "title_heatmap": ("Good-rating rate by weekday and hour (on site)", "按星期与时段的好评率（现场）"),
    "title_control": ("Weekly p-charts per {kind} (red: outside the limits; shaded: EWMA)",
                      "按{kind}的每周 p 控制图（红色：超出控制限；阴影：EWMA）"),
    "window": ("window", "窗口"),
    "service": ("service", "事项"),
    "title_peaks": ("Deadline days and follow-up", "截止日与跟进"),
    "weekdays": ("Mon Tue Wed Thu Fri Sat Sun", "周一 周二 周三 周四 周五 周六 周日"),
    "ratings_per_week": ("ratings per week", "每周评价数"),
    "good_rate": ("good-rating rate", "好评率"),
    "good_axis": ("good ratings (%), 95% CI", "好评占比（%），95% 置信区间"),
    "good_share": ("good ratings (%)", "好评占比（%）"),
    "hour_axis": ("hour of rating (on-site ratings; in brackets: ratings per opening day)",
                  "评价时段（现场评价；括号内：每个开放日的评价数）"),
    "resolved_axis": ("bad ratings resolved within deadline (%)", "在期限内处理完毕的差评占比（%）"),
}
_language = "en"


def say(key: str, **values) -> str:
    """A figure's words in the language set by use_language()."""
    en, zh = TEXT[key]
    return (zh if _language == "zh" else en).format(**values)


def use_language(language: str, cjk: bool = False) -> None:
    """The language of the figures' own words; Chinese labels (or cjk=True, for names in Chinese
    whatever the language) need a CJK font: Noto Sans CJK SC (SIL OFL, PyPI package mplfonts)."""
    global _language
    _language = language
    if language != "zh" and not cjk:
        return
    from matplotlib import font_manager

    from . import cjk_fonts

    font_manager.fontManager.addfont(str(cjk_fonts() / "NotoSansCJKsc-Regular.otf"))
    plt.rcParams["font.family"] = ["DejaVu Sans", "Noto Sans CJK SC"]   # Latin first, CJK fallback


def palette(name: str, k: int):
    """k colours from a matplotlib colormap, sampled as seaborn.color_palette(name, k) does."""
    return [tuple(c) for c in plt.get_cmap(name)(np.linspace(0, 1, k + 2)[1:-1])]


def despine(ax, left: bool = False) -> None:
    ax.spines[["top", "right"] + (["left"] if left else [])].set_visible(False)


def save(fig, folder, name: str) -> None:
    """Write folder/name.png and folder/name.pdf (no timestamps: same figure, same bytes); in a
    notebook, also show the figure as the cell's output."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.pdf"]
    fig.savefig(paths[0], bbox_inches="tight", metadata={"Software": None})
    fig.savefig(paths[1], bbox_inches="tight", metadata={"CreationDate": None, "Creator": None, "Producer": None})
    plt.close(fig)
    _show(paths[0])


def _show(png: Path) -> None:
    """The saved PNG inline when a Jupyter kernel runs this (papermill, JupyterLab: the Agg backend
    has no inline display of its own); elsewhere nothing."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        from IPython.display import Image, display

        display(Image(data=png.read_bytes(), format="png"))


def likert(distribution: pd.DataFrame, labels: dict[str, str], title: str = "", language: str = "en"):
    """Diverging stacked bars, one panel per scale length (1-5, 1-3, 1-10...): answers below the
    scale's middle left of 0, above it right, the middle category (odd scales) split. The legend
    names each code by its label when the panel's scales share them, else as lowest ... highest."""
    import textwrap

    d = distribution[distribution.groupby("item")["code"].transform("nunique") >= 3]   # not binary
    scales = list(dict.fromkeys(zip(d["scale_min"], d["scale_max"])))
    sizes = [d.loc[(d["scale_min"] == lo) & (d["scale_max"] == hi), "item"].nunique() for lo, hi in scales]
    fig, axes = plt.subplots(len(scales), 1, figsize=(7.5, sum(0.32 * n + 1.5 for n in sizes) + 0.3),
                             gridspec_kw={"height_ratios": [0.32 * n + 1.5 for n in sizes]}, squeeze=False)
    label_col = "label_zh" if language == "zh" else "label_en"
    for ax, (lo, hi) in zip(axes[:, 0], scales):
        part = d[(d["scale_min"] == lo) & (d["scale_max"] == hi)]
        lo, hi = int(lo), int(hi)
        items = list(dict.fromkeys(part["item"]))
        k = int(hi - lo + 1)
        colors = palette("RdBu", k)
        extent = [0.0, 0.0]
        for y, item in enumerate(items):
            shares = part[part["item"] == item].sort_values("code")["share"].fillna(0).to_numpy() * 100
            left = -shares[: k // 2].sum() - (shares[k // 2] / 2 if k % 2 else 0)
            extent = [min(extent[0], left), max(extent[1], left + shares.sum())]
            for share, color in zip(shares, colors):
                ax.barh(y, share, left=left, color=color, edgecolor="white", linewidth=0.4)
                left += share
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_yticks(range(len(items)), [labels.get(i, i) for i in items])
        ax.invert_yaxis()
        ax.set_xlim(10 * np.floor(extent[0] / 10 - 0.5), 10 * np.ceil(extent[1] / 10 + 0.5))
        shared = part.groupby("code")[label_col].nunique().max() == 1
        names = part.drop_duplicates("code").sort_values("code")
        if shared:
            legend = [f"{c}" if str(t) == str(c) else f"{c} {t}" for c, t in zip(names["code"], names[label_col])]
        else:       # items on scales of this length with different wording: codes only
            legend = [f"{c}{say('lowest') if c == lo else say('highest') if c == hi else ''}" for c in names["code"]]
        handles = [matplotlib.patches.Patch(color=c, label="\n".join(textwrap.wrap(lab, 22)))
                   for c, lab in zip(colors, legend)]
        middle = "" if k % 2 == 0 else say("likert_middle")
        ax.set_xlabel(say("likert_axis", lo=lo, hi=hi, middle=middle), fontsize=8)
        ax.legend(handles=handles, ncol=min(k, 5 if k > 5 else k), loc="upper center", frameon=False,
                  bbox_to_anchor=(0.5, -0.35 / max(len(items), 1) - 0.12), fontsize=7)
        despine(ax, left=True)
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    return fig


def top_box_by_type(top_box: pd.DataFrame, labels: dict[str, str], title: str = ""):
    """Top-box rate per item for each respondent type (overall if none), with Wilson 95% CIs."""
    t = top_box.reset_index(drop=True)
    groups = [c[len("rate_"):] for c in t.columns if c.startswith("rate_")] or [""]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(t) + 1.2))
    colors = [plt.get_cmap("tab10")(k) for k in range(max(len(groups), 1))]
    for k, g in enumerate(groups):
        suffix = f"_{g}" if g else ""
        y = np.arange(len(t)) + (k - (len(groups) - 1) / 2) * 0.3 / max(len(groups) - 1, 1)
        rate = 100 * t[f"rate{suffix}"]
        err = np.vstack([rate - 100 * t[f"ci_lower{suffix}"], 100 * t[f"ci_upper{suffix}"] - rate])
        ax.errorbar(rate, y, xerr=err, fmt="o", ms=4, color=colors[k] if g else "#1b6ca8", capsize=2,
                    label=labels.get(g, g or say("all_respondents")))
    ax.set_yticks(range(len(t)), [labels.get(i, i) for i in t["item"]])
    ax.invert_yaxis()
    ax.set_xlabel(say("top_box_axis"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08 - 1.0 / len(t)), ncol=max(len(groups), 1),
              frameon=False)
    if title:
        ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    despine(ax)
    return fig


def ipma(ipma_table: pd.DataFrame, labels: dict[str, str], title: str = "", target: str = "the target"):
    """Importance-performance map with bootstrap CIs. Instead of quadrants at the means (which can put
    the first priority in a "low importance" corner), each driver's curve of equal potential gain,
    importance x (100 - performance) = its gain, is drawn, and the driver is labelled with its potential
    gain: the order of the curves is the order of the priorities (before the cap at the target's room)."""
    t = ipma_table
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    xerr = np.vstack([t["importance"] - t["importance_ci_lower"], t["importance_ci_upper"] - t["importance"]])
    yerr = np.vstack([t["performance"] - t["performance_ci_lower"], t["performance_ci_upper"] - t["performance"]])
    if np.isfinite(xerr).all():
        ax.errorbar(t["importance"], t["performance"], xerr=xerr, yerr=yerr, fmt="none",
                    ecolor="#999999", elinewidth=0.8, capsize=2)
    ax.scatter(t["importance"], t["performance"], s=40, color="#1b6ca8", zorder=3)
    x = t[["importance", "importance_ci_lower", "importance_ci_upper"]].to_numpy(float)
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    span = (hi - lo) or abs(hi) or 1.0
    x_lo, x_hi = lo - 0.1 * span, hi + 0.15 * span       # a negative importance stays in view
    y = t[["performance", "performance_ci_lower", "performance_ci_upper"]].to_numpy()
    y_lo, y_hi = float(np.nanmin(y)), float(np.nanmax(y))
    pad = max(1.0, 0.1 * (y_hi - y_lo))
    y_top = min(100.0, y_hi + pad)
    xs = np.linspace(max(x_lo, 1e-3 * span), x_hi, 200)  # the curves live where importance > 0
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo - pad, y_top)
    # labels of drivers that sit close together are stacked, the higher point's label on top
    fx = (t["importance"].to_numpy(float) - x_lo) / (x_hi - x_lo)
    fy = (t["performance"].to_numpy(float) - (y_lo - pad)) / (y_top - y_lo + pad)
    lift = np.zeros(len(t))
    placed: list[int] = []
    for k in np.argsort(-fy, kind="stable"):
        near = [j for j in placed if abs(fx[j] - fx[k]) < 0.3 and abs(fy[j] - fy[k]) < 0.06]
        lift[k] = min([lift[j] - 11 for j in near], default=0.0)
        placed.append(k)
    for k, r in enumerate(t.itertuples()):
        gain = r.importance * (100 - r.performance)      # uncapped: the curve through the driver
        if np.isfinite(gain) and gain > 0:
            ax.plot(xs, 100 - gain / xs, color="#bbbbbb", linestyle="--", linewidth=0.8, zorder=1)
        gain_text = f"{r.potential:+.1f}".replace("-", "−")
        ax.annotate(f"{r.priority}. {labels.get(r.driver, r.driver)} ({gain_text})", (r.importance, r.performance),
                    textcoords="offset points", xytext=(6, 4 + lift[k]), fontsize=8,
                    arrowprops=dict(arrowstyle="-", color="#999999", lw=0.5) if lift[k] else None)
    ax.set_xlabel(say("ipma_x", target=target))
    ax.set_ylabel(say("ipma_y"))
    ax.text(0.01, 0.99, say("ipma_note"), transform=ax.transAxes,     # top left: clear of the points' labels
            ha="left", va="top", fontsize=7, color="#666666", bbox=dict(fc="white", ec="none", pad=1))
    if title:
        ax.set_title(title)
    despine(ax)
    return fig


def path_diagram(estimates: pd.DataFrame, labels: dict[str, str], title: str = "", admissible: bool = True):
    """Structural model with standardized coefficients (std_all) and R², drawn left to right.
    An improper solution is drawn in grey under a warning, without significance marks; an R²
    outside 0-1 is never printed."""
    reg = estimates[estimates["op"] == "~"]
    nodes = list(dict.fromkeys(list(reg["rhs"]) + list(reg["lhs"])))
    targets = set(reg["lhs"])
    # layer = longest path from an exogenous node
    layer = {n: 0 for n in nodes}
    for _ in nodes:
        for r in reg.itertuples():
            layer[r.lhs] = max(layer[r.lhs], layer[r.rhs] + 1)
    columns: dict[int, list[str]] = {}
    for n in nodes:
        columns.setdefault(layer[n], []).append(n)
    pos = {}
    for col, members in columns.items():
        for k, n in enumerate(members):
            pos[n] = (col * 3.0, -(k - (len(members) - 1) / 2) * 1.4)
    var = estimates[(estimates["op"] == "~~") & (estimates["lhs"] == estimates["rhs"])].set_index("lhs")
    latents = set(estimates.loc[estimates["op"] == "=~", "lhs"])
    fig, ax = plt.subplots(figsize=(2.6 * (max(columns) + 1) + 1, 1.3 * max(len(m) for m in columns.values()) + 1))
    import textwrap

    for r in reg.itertuples():
        (x0, y0), (x1, y1) = pos[r.rhs], pos[r.lhs]
        sig = (r.pvalue < 0.05 if pd.notna(r.pvalue) else True) and admissible
        skip = layer[r.lhs] - layer[r.rhs] > 1          # would cross a node in between: arc over it
        rad = -0.35 if skip else 0.0
        ax.annotate("", xy=(x1 - 0.75, y1), xytext=(x0 + 0.75, y0),
                    arrowprops=dict(arrowstyle="-|>", color="#333333" if sig else "#999999",
                                    linestyle="-" if sig else "--", lw=1.2,
                                    connectionstyle=f"arc3,rad={rad}"))
        lift = 0.95 if skip else 0.12
        mark = "" if sig or not admissible else say("not_significant")
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + lift, f"{r.std_all:.2f}".replace("-", "−") + mark,
                ha="center", fontsize=8, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none"))
    for n, (x, y) in pos.items():
        latent = n in latents
        ax.add_patch(matplotlib.patches.Ellipse((x, y), 1.6, 0.85, fc="#e8f0f8", ec="#1b6ca8") if latent else
                     matplotlib.patches.Rectangle((x - 0.8, y - 0.42), 1.6, 0.84, fc="#f4f4f4", ec="#666666"))
        text = "\n".join(textwrap.wrap(labels.get(n, n), 18))
        if n in targets and n in var.index and admissible and 0 <= 1 - var.loc[n, "std_all"] <= 1:
            text += f"\nR² = {1 - var.loc[n, 'std_all']:.2f}"
        ax.text(x, y, text, ha="center", va="center", fontsize=7)
    ax.set_xlim(-1, max(x for x, _ in pos.values()) + 1)
    ys = [y for _, y in pos.values()]
    ax.set_ylim(min(ys) - 0.8, max(ys) + 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    if not admissible:
        ax.text(0.5, 1.0, say("improper"),
                transform=ax.transAxes, ha="center", va="bottom", color="#b22222", fontsize=9, weight="bold")
    return fig


def withheld(message: str, title: str = ""):
    """A placeholder figure for a result that is withheld (e.g. the IPMA of an improper solution)."""
    import textwrap

    fig, ax = plt.subplots(figsize=(5.5, 1.6))
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(message, 60)), ha="center", va="center", color="#b22222",
            fontsize=9, transform=ax.transAxes)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


def forest(league: pd.DataFrame, construct: str, title: str = ""):
    """CSI index of one construct per district with bootstrap 95% CIs."""
    t = league[(league["construct"] == construct) & league["index"].notna()].sort_values("index")
    fig, ax = plt.subplots(figsize=(5.5, 0.45 * len(t) + 1.2))
    y = np.arange(len(t))
    ax.errorbar(t["index"], y, xerr=np.vstack([t["index"] - t["ci_lower"], t["ci_upper"] - t["index"]]),
                fmt="o", color="#1b6ca8", capsize=3)
    import textwrap

    ax.set_yticks(y, ["\n".join(textwrap.wrap(str(n), 28)) for n in t["name"]])
    ax.set_xlabel(say("forest_axis", construct=construct))
    if not bool(t["comparable"].iloc[0]):
        ax.text(0.0, 1.02, say("not_comparable"), transform=ax.transAxes,
                color="#b22222", fontsize=8)
    if title:
        ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    despine(ax)
    return fig


def criterion_heatmap(crit: pd.DataFrame, labels: dict[str, str], level: float, title: str = ""):
    """Top-box share per indicator and district; cells below the criterion are marked."""
    import textwrap

    import seaborn as sns

    wide = crit.pivot_table(index="item", columns="name", values="rate", sort=False) * 100
    wide.columns = ["\n".join(textwrap.wrap(str(c), 16)) for c in wide.columns]
    fig, ax = plt.subplots(figsize=(1.3 * wide.shape[1] + 3.5, 0.32 * len(wide) + 1.3))
    sns.heatmap(wide, annot=True, fmt=".0f", cmap=sns.diverging_palette(15, 240, as_cmap=True),
                center=100 * level, vmin=100 * level - 25, vmax=100, ax=ax,
                cbar_kws={"label": say("heatmap_bar", level=level)})
    for (i, j), v in np.ndenumerate(wide.to_numpy()):
        if v < 100 * level:
            ax.add_patch(matplotlib.patches.Rectangle((j, i), 1, 1, fill=False, ec="#7a0000", lw=1.2))
    ax.set_yticklabels([labels.get(t.get_text(), t.get_text()) for t in ax.get_yticklabels()], rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="x", labelrotation=0, labelsize=7.5)
    if title:
        ax.set_title(title)
    return fig


def power_curves(power: pd.DataFrame, width: pd.DataFrame | None = None):
    """Power of each structural path versus n (and the index CI width, if planned)."""
    panels = 2 if width is not None and len(width) else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 3.8), squeeze=False)
    ax = axes[0, 0]
    for path, g in power.groupby("path", sort=False):
        ax.plot(g["n"], g["power"], marker="o", label=path)
    ax.axhline(0.8, color="#999999", linestyle="--", linewidth=0.8)
    ax.set_xlabel("sample size n")
    ax.set_ylabel("power (5% two-sided)")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, frameon=False)
    if panels == 2:
        ax2 = axes[0, 1]
        ax2.plot(width["n"], width["expected_ci_width"], marker="o", color="#1b6ca8")
        ax2.set_xlabel("sample size n")
        ax2.set_ylabel("expected 95% CI width of the index (points)")
    fig.tight_layout()
    return fig
