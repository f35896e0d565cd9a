"""Reading model data and writing estimates.csv / fit.json / bootstrap.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .estimate import Result

# fit.json, in this order; lavaan's fitMeasures names with '.' -> '_'. The scaled measures
# (chisq_scaled, chisq_scaling_factor, pvalue_scaled, cfi_scaled, tli_scaled, rmsea_scaled) are
# null for estimator ML; the robust ones (cfi_robust, tli_robust, rmsea_robust) are null for ML
# with listwise deletion (with FIML lavaan gives them for ML too). Null also where lavaan has NA.
# chisq_shift: the shift parameter of WLSMV's scaled-shifted chi-square (null for the others; for
# WLSMV the loglikelihood-based keys gfi, aic, bic, loglik are null).
FIT_KEYS = ["converged", "admissible", "diagnosis", "estimator", "missing", "choice", "ordered", "npar", "chisq", "df", "pvalue",
            "chisq_scaled", "chisq_scaling_factor", "chisq_shift", "pvalue_scaled", "cfi", "tli", "rmsea",
            "rmsea_ci_lower", "rmsea_ci_upper", "cfi_scaled", "tli_scaled", "rmsea_scaled", "cfi_robust", "tli_robust",
            "rmsea_robust", "srmr", "gfi", "aic", "bic", "loglik", "unrestricted_loglik", "n", "iterations",
            "max_gradient", "warnings", "notes", "notes_zh", "ci"]
EST_COLUMNS = ["lhs", "op", "rhs", "est", "se", "z", "pvalue", "std_all", "ci_lower", "ci_upper"]


def read_data(path) -> pd.DataFrame:
    from pathlib import Path

    from ..errors import CSIError

    path = Path(path)
    if not path.exists():
        raise CSIError("data file not found", file=path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise CSIError(f"cannot read {path.suffix!r} data", file=path, hint="give a .csv or .parquet file.")


def write_result(result: Result, out_dir) -> None:
    """DIR/estimates.csv and DIR/fit.json (+ DIR/bootstrap.csv), all-or-nothing.

    fit.json has the FIT_KEYS: with estimator ML the scaled keys (chisq_scaled ... rmsea_scaled) are
    null, and with ML and listwise deletion the robust ones (cfi_robust, tli_robust, rmsea_robust)
    too; any measure lavaan gives as NA is null. estimates.csv's se, z, pvalue and CIs are the
    estimator's (MLM/MLR: robust); with FIML it has intercept rows (op "~1")."""
    import json
    from pathlib import Path

    from ..io import atomic_outputs

    out = Path(out_dir)
    fit = {k: result.measures.get(k) for k in FIT_KEYS}   # chisq_shift: WLSMV only
    if "bootstrap" in result.measures:
        fit["bootstrap"] = result.measures["bootstrap"]
    paths = [out / "estimates.csv", out / "fit.json"]
    if result.bootstrap is not None:
        paths.append(out / "bootstrap.csv")
    with atomic_outputs(*paths) as tmp:
        result.estimates[EST_COLUMNS].to_csv(tmp[0], index=False, float_format="%.10g", lineterminator="\n")
        Path(tmp[1]).write_text(json.dumps(_jsonable(fit), indent=2, ensure_ascii=False) + "\n", "utf-8")
        if result.bootstrap is not None:
            result.bootstrap.to_csv(tmp[2], index=False, float_format="%.10g", lineterminator="\n")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(f"{float(obj):.10g}")
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
