"""Ordered items in estimate(): the checks, and the threshold rows of the parameter table."""

from __future__ import annotations

import numpy as np
from scipy import stats

from ...errors import CSIError
from .dwls import WLSMV

# --- estimate() helpers ---------------------------------------------------------------------------------

def check_ordered(model, estimator: str, ordered) -> None:
    """WLSMV needs every observed model variable ordered (no continuous + ordered mixtures yet)."""
    if estimator != "WLSMV":
        raise CSIError(f"ordered items need estimator WLSMV (got {estimator})",
                       hint="set estimator WLSMV, or leave `ordered` empty to treat the items as continuous.")
    if ordered is None or (isinstance(ordered, str) and ordered.lower() == "all"):
        return
    names = [ordered] if isinstance(ordered, str) else list(ordered)
    unknown = [v for v in names if v not in model.observed]
    if unknown:
        raise CSIError(f"ordered variable(s) not in the model: {', '.join(unknown)}",
                       hint=f"the model's observed variables are: {', '.join(model.observed)}.")
    rest = [v for v in model.observed if v not in names]
    if rest:
        raise CSIError("a model with both ordered and continuous observed variables is not supported with WLSMV "
                       f"yet (continuous: {', '.join(rest)})",
                       hint="declare every model item ordered (ordered: all), or use ML/MLR for all of them.")


def threshold_rows(model, w: WLSMV) -> list:
    """(lhs, "|", "t<m>", est, se, std_all) per threshold; std_all divides by sd(y*)."""
    sigma = model.implied(w.fit.x)[0]
    out, k = [], 0
    for j, name in enumerate(w.sample.names):
        sd = np.sqrt(sigma[j, j])
        for m, t in enumerate(w.sample.th[j]):
            out.append((name, "|", f"t{m + 1}", float(t), float(w.threshold_se[k]), float(t / sd)))
            k += 1
    return out


def add_thresholds(table, rows):
    """The parameter table with threshold rows after the (co)variances, before effects (":=")."""
    import pandas as pd

    t = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est", "se", "std_all"])
    with np.errstate(divide="ignore", invalid="ignore"):
        t["z"] = np.where(t["se"] > 0, t["est"] / t["se"], np.nan)
    t["pvalue"] = 2 * stats.norm.sf(np.abs(t["z"]))
    q = stats.norm.ppf(0.975)
    t["ci_lower"], t["ci_upper"] = t["est"] - q * t["se"], t["est"] + q * t["se"]
    order = table.attrs.get("layout_order")
    cut = int((table["op"] != ":=").sum())
    out = pd.concat([table.iloc[:cut], t[table.columns], table.iloc[cut:]], ignore_index=True)
    if order is not None:
        out.attrs["layout_order"] = order
    return out


def threshold_ci(ci, table):
    """Bootstrap CIs (percentile_table: the layout's rows, then the thresholds) in the order of
    a table made by add_thresholds."""
    import pandas as pd

    order = table.attrs["layout_order"]
    nth = int((table["op"] == "|").sum())
    body, th = ci.iloc[:len(ci) - nth], ci.iloc[len(ci) - nth:]
    body = body.iloc[order].reset_index(drop=True)
    cut = int((table["op"] != ":=").sum()) - nth
    return pd.concat([body.iloc[:cut], th, body.iloc[cut:]], ignore_index=True)
