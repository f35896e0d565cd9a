"""Figures of the rating stream (notebook 05): weekly trend with CIs, hour x weekday heat map,
control charts, deadline days and follow-up. Saved with csi.plots.save (PNG + PDF, fixed metadata)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..plots import despine, plt, say



def trend(weeks: pd.DataFrame, title: str = ""):
    """Weekly good-rating rate with its Wilson 95% CI (band) over the number of ratings (bars)."""
    w = weeks.copy()
    x = pd.to_datetime(w["week"])
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    ax2 = ax.twinx()
    ax2.bar(x, w["n"], width=5, color="#dddddd", label=say("ratings_per_week"))
    ax2.set_ylabel(say("ratings_per_week"), color="#888888")
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.fill_between(x, 100 * w["ci_lower"], 100 * w["ci_upper"], color="#1b6ca8", alpha=0.25, linewidth=0)
    ax.plot(x, 100 * w["rate"], color="#1b6ca8", marker="o", ms=2.5, linewidth=1, label=say("good_rate"))
    ax.set_ylabel(say("good_axis"))
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title)
    despine(ax)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def heatmap(h: pd.DataFrame, title: str = ""):
    """On-site good-rating rate by weekday and hour; cells annotated with the rate."""
    rate = h.pivot(index="weekday", columns="hour", values="rate").sort_index()
    n = h.pivot(index="weekday", columns="hour", values="ratings_per_day").reindex_like(rate)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(rate) + 1.6))
    im = ax.imshow(100 * rate.to_numpy(float), aspect="auto", cmap="RdYlGn")
    for i in range(rate.shape[0]):
        for j in range(rate.shape[1]):
            v = rate.iat[i, j]
            if v == v:
                per_day = n.iat[i, j]           # fewer than one a day: one decimal, not "0/d"
                per_day = f"{per_day:.0f}" if per_day >= 1 else f"{per_day:.1f}"
                ax.text(j, i, f"{100 * v:.1f}\n({per_day}/d)", ha="center", va="center", fontsize=6)
    ax.set_xticks(range(rate.shape[1]), [f"{c}:00" for c in rate.columns])
    ax.set_yticks(range(rate.shape[0]), [say("weekdays").split()[k - 1] for k in rate.index])
    fig.colorbar(im, ax=ax, label=say("good_share"))
    ax.set_xlabel(say("hour_axis"))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def control_charts(chart: pd.DataFrame, signals: pd.DataFrame, title: str = "", most: int = 6):
    """Small multiples of weekly p-charts: the units with a low out-of-control period (else the lowest
    levels); expected rate and probability limits as steps, p-chart flags in red, EWMA flags shaded."""
    low = signals[signals["direction"] == "low"]["unit"].drop_duplicates().tolist()
    units = (low or chart.groupby("unit")["level"].first().sort_values().index.tolist())[:most]
    cols = 1 if len(units) == 1 else 2
    rows = max(1, int(np.ceil(len(units) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(7.5, 2.3 * rows), sharex=True, squeeze=False)
    for ax, unit in zip(axes.flat, units):
        g = chart[chart["unit"] == unit].fillna({"p_flag": "", "ewma_flag": ""})   # CSV: no flag = blank
        x = pd.to_datetime(g["week"])
        for _, r in g[g["ewma_flag"] != ""].iterrows():
            ax.axvspan(pd.Timestamp(r["week"]), pd.Timestamp(r["week"]) + pd.Timedelta(days=7), color="#f4c7c3",
                       alpha=0.6, linewidth=0)
        ax.step(x, 100 * g["lower"], where="mid", color="#999999", linewidth=0.8)
        ax.step(x, 100 * g["upper"], where="mid", color="#999999", linewidth=0.8)
        ax.plot(x, 100 * g["expected"], color="#555555", linewidth=0.8, linestyle="--")
        ax.plot(x, 100 * g["rate"], color="#1b6ca8", marker="o", ms=2, linewidth=0.8)
        flag = g["p_flag"] != ""
        ax.plot(x[flag], 100 * g.loc[flag, "rate"], "o", color="#c0392b", ms=4)
        ax.set_title(unit, fontsize=8)
        ax.tick_params(labelsize=7)
        despine(ax)
    for ax in list(axes.flat)[len(units):]:
        ax.axis("off")
    fig.supylabel("good ratings per week (%)", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def peaks_followup(peaks: pd.DataFrame, follow: pd.DataFrame, title: str = ""):
    fig, (a, b) = plt.subplots(1, 2, figsize=(7.5, 3.0))
    labels, rates, lo, hi = [], [], [], []
    for _, r in peaks.iterrows():
        name = r["days"].split(" (")[0]
        labels += [name, "other days"]
        rates += [r["rate"], r["other_rate"]]
        lo += [r.get("rate_ci_lower", np.nan), np.nan]
        hi += [r.get("rate_ci_upper", np.nan), np.nan]
    y = np.arange(len(labels))
    rates, lo, hi = (100 * np.asarray(v, float) for v in (rates, lo, hi))
    a.errorbar(rates, y, xerr=np.vstack([rates - lo, hi - rates]), fmt="o", color="#1b6ca8", capsize=2)
    a.set_yticks(y, labels, fontsize=7)
    a.invert_yaxis()
    a.set_xlabel(say("good_axis"))
    despine(a)
    f = follow[(follow["hall"] != "(all)") & ~follow["suppressed"].astype(bool)]
    s = 100 * f["share_within_deadline"].to_numpy(float)
    err = np.vstack([s - 100 * f["ci_lower"].to_numpy(float), 100 * f["ci_upper"].to_numpy(float) - s])
    b.errorbar(s, np.arange(len(f)), xerr=err, fmt="o", color="#1b6ca8", capsize=2)
    b.set_yticks(range(len(f)), [f"{h}\n(median {m:.0f} h)" for h, m in zip(f["hall"], f["median_hours"])],
                 fontsize=7)
    b.invert_yaxis()
    b.set_xlabel(say("resolved_axis"))
    despine(b)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
