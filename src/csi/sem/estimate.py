"""Fit a model to data: the one entry point used by the pipeline and `csi fit`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import CSIError
from .admissibility import diagnose
from .checks import check_data, check_size
from .choice import choose
from .measures import ROBUST_KEYS, fiml_measures, fit_measures, robust_measures
from .ml import Fit
from .model import Model, sample_cov
from .sample import Patterns, complete_cases, used_rows
from .table import Layout, parameter_table

ESTIMATORS = ("ML", "MLM", "MLR", "WLSMV")
MISSING = ("listwise", "fiml", "pairwise")
CI_TEXT = {"ML": "normal theory (expected information)",
           "MLM": "normal theory (robust SEs: expected information, Gamma from the data)",
           "MLR": "normal theory (robust Huber-White SEs: observed information)",
           "WLSMV": "normal theory (robust SEs: DWLS on polychoric correlations, Gamma from the data)",
           ("ML", "fiml"): "normal theory (observed information)"}


@dataclass
class Result:
    model: "Model"
    n: int
    fit: Fit
    estimates: pd.DataFrame
    measures: dict
    bootstrap: pd.DataFrame | None = None
    # the rows fitted: the complete cases (listwise), or every row with a model variable observed
    # (FIML; with NaN)
    data: pd.DataFrame | None = None
    extra_draws: np.ndarray | None = None     # bootstrap draws of the `extra` statistic
    vcov: np.ndarray | None = None            # the estimator's covariance of the free parameters
    ordinal: object | None = None             # WLSMV: the ordinal fit (ordinal.WLSMV: thresholds, y* scale)


def options(estimator: str, missing: str) -> tuple[str, str]:
    """Normalized (estimator, missing); lavaan's missing = "ml" is FIML here."""
    e = str(estimator).upper()
    m = {"ml": "fiml", "fiml": "fiml", "listwise": "listwise", "pairwise": "pairwise"}.get(str(missing).lower())
    if e not in ESTIMATORS:
        raise CSIError(f"unknown estimator {estimator!r}", hint=f"use one of {', '.join(ESTIMATORS)}.")
    if m is None:
        raise CSIError(f"unknown missing-data method {missing!r}", hint=f"use one of {', '.join(MISSING)}.")
    if e == "MLM" and m == "fiml":
        raise CSIError("estimator MLM with missing = fiml is not supported: MLM (Satorra-Bentler) needs "
                       "complete data, as in lavaan",
                       hint="use estimator MLR with missing = fiml (robust SEs and Yuan-Bentler chi-square), "
                            "or MLM with missing = listwise.")
    if e == "WLSMV" and m == "fiml":
        raise CSIError("estimator WLSMV with missing = fiml is not supported (lavaan's WLSMV uses listwise or "
                       "pairwise deletion)", hint="use estimator WLSMV with missing = pairwise (every answer "
                       "given is used) or listwise.")
    if m == "pairwise" and e != "WLSMV":
        raise CSIError(f"missing = pairwise is for estimator WLSMV (ordered items), not {e}",
                       hint="use missing = fiml (every answer given is used) or listwise with ML/MLR.")
    return e, m


def _refuse_fiml(model: Model, estimator: str) -> None:
    if model.exo:
        covs = ", ".join(model.inner[i] for i in model.exo)
        raise CSIError(f"estimator {estimator} with missing = fiml is not supported for a model with exogenous "
                       f"observed covariates ({covs}; lavaan's fixed.x)",
                       hint="use missing = listwise for this model (estimator MLR or MLM still gives robust "
                            "SEs and a scaled chi-square on the complete cases).")


def estimate(description: str, data: pd.DataFrame, *, estimator: str = "ML", missing: str = "listwise",
             bootstrap: int = 0, seed: int = 0, stream: str | None = None, jobs: int = 1, progress: bool = False,
             extra=None,
             model: Model | None = None, source=None, ordered=None, categorical=None) -> Result:
    """Fit a lavaan-syntax model to `data` with lavaan's estimator ("ML", "MLM", "MLR") and missing-
    data method ("listwise": complete cases; "fiml": lavaan's missing = "ml", with free intercepts);
    "auto" chooses for the data (choice.py), and measures["choice"] says why.

    ML, MLM and MLR give the same (ML) estimates on the same rows; they differ in SEs and in the
    scaled chi-square (MLM: Satorra-Bentler; MLR: Yuan-Bentler, lavaan's Mplus form).
    With bootstrap = B > 0 the CIs in the table are bootstrap percentile CIs (see bootstrap.py);
    `progress` (True, or a label such as the output folder) prints its progress; `stream` names the
    bootstrap's seed stream (bootstrap.py).
    estimator "WLSMV" (lavaan's, with `ordered` = "all" or the list of the model's items, which must
    be all of them): ordinal SEM on polychoric correlations (ordinal.py); the table has threshold
    rows (op "|", rhs "t1", "t2", ...), measures the scaled-shifted chi-square (chisq_shift);
    missing "listwise" or "pairwise". `categorical`: the items the codebook makes ordered, used
    when `ordered` is not given: auto chooses WLSMV when they are all the model's variables.
    `extra(model, x, X_resampled[, ordinal=True])` is a statistic of each bootstrap draw.
    An inadmissible or non-converged solution is diagnosed (measures['diagnosis']) and not
    bootstrapped: it is not a basis for findings. `source`: the data file, named in messages.
    """
    if model is None:       # with missing = auto, FIML is possible: its check (coverage) first
        check_data(description, data, data_file=source, missing="fiml" if str(missing).lower() == "auto" else missing)
        model = Model(description, data)
    hint = ordered if ordered is not None else categorical
    items = list(model.observed) if isinstance(hint, str) and hint.lower() == "all" else \
        ([hint] if isinstance(hint, str) else list(hint) if hint else None)
    choice = choose(data, model.observed, estimator, missing, [model.inner[i] for i in model.exo], ordered=items)
    estimator, missing = options(choice.estimator, choice.missing)
    if estimator == "WLSMV" or ordered:
        from .ordinal import check_ordered
        check_ordered(model, estimator, ordered if ordered is not None else items)
    fiml = missing == "fiml"
    if fiml:
        _refuse_fiml(model, estimator)
        X = used_rows(data, model.observed)
    elif missing == "pairwise":
        X = used_rows(data, model.observed)
    else:
        X = complete_cases(data, model.observed)
    n = len(X)
    warnings = check_size(len(model.start), model.p, n, data_file=source, fiml=fiml or missing == "pairwise")
    Xa = X.to_numpy(float)
    F = None
    thresholds, ordinal = None, None
    if estimator == "WLSMV":
        fit, vcov, measures, thresholds, ordinal = _fit_wlsmv(model, Xa)
    elif fiml:
        fit, F, vcov, measures = _fit_fiml(model, Xa, estimator)
    else:
        fit, vcov, measures = _fit_complete(model, Xa, estimator)
    if vcov is not None and np.isnan(vcov).all() and fit.converged:
        warnings.append(f"The {estimator} standard errors and scaled chi-square could not be computed (a singular "
                        "information matrix: the model is not identified at this solution); they are left empty.")
    table = parameter_table(model, fit, n, vcov)
    if thresholds is not None:
        from .ordinal import add_thresholds
        table = add_thresholds(table, thresholds)
    measures.update(estimator=estimator, missing=missing,
                    choice=choice.record())
    findings = diagnose(model, fit, table)
    diagnosis = [f["text"] for f in findings if f["inadmissible"]]
    warnings += [f["text"] for f in findings if not f["inadmissible"]]
    admissible = fit.converged and not diagnosis
    if not admissible:     # not a basis for findings: no significance or confidence intervals
        table[["z", "pvalue", "ci_lower", "ci_upper"]] = np.nan
    notes, notes_zh = _notes(model, data, X, F, missing)
    boot, draws = None, None
    if bootstrap:
        from .. import bootstrap as bs

        if admissible:
            if ordinal is not None and extra is not None:     # the statistic on the y* scale
                import functools
                extra = functools.partial(extra, ordinal=True)
            draws = bs.run(model, Xa, fit, Layout.of(model, fit.x), bootstrap, seed,
                           jobs=jobs, progress=progress, extra=extra, fiml=fiml, stream=stream,
                           ordinal=None if ordinal is None else (ordinal.dm, ordinal.sample.values,
                                                                ordinal.sample.R))
            ci = bs.percentile_table(draws)
            if ordinal is not None:      # the thresholds' rows where add_thresholds put them
                from .ordinal import threshold_ci
                ci = threshold_ci(ci, table)
            else:
                ci = ci.iloc[table.attrs["layout_order"]].reset_index(drop=True)
            measures["bootstrap"] = bs.summary(draws, bootstrap)
        else:
            ci = pd.DataFrame(np.nan, index=table.index, columns=["boot_se", "ci_lower", "ci_upper",
                                                                  "std_ci_lower", "std_ci_upper"])
            measures["bootstrap"] = {"B": bootstrap, "seed": seed, "drawn": 0,
                                     "withheld": "the solution is not admissible: no bootstrap"}
        boot = pd.concat([table[["lhs", "op", "rhs", "est"]], ci[["boot_se", "ci_lower", "ci_upper"]],
                          table[["std_all"]], ci[["std_ci_lower", "std_ci_upper"]]], axis=1)
        table["ci_lower"], table["ci_upper"] = ci["ci_lower"].to_numpy(), ci["ci_upper"].to_numpy()
        b = measures["bootstrap"]
        if b.get("verdict"):
            warnings.append(b["verdict"])
        elif b.get("not_converged") or b.get("inadmissible"):
            notes.append(f"bootstrap: {b['not_converged']} of {bootstrap} draws did not converge and "
                         f"{b['inadmissible']} were inadmissible" + (
                             "; the parameters' CIs keep the inadmissible draws (as lavaan), the statistics "
                             "computed from the solution (indices, importances, priorities) use the admissible "
                             "draws only." if b.get("inadmissible") and extra is not None else "."))
            notes_zh.append(f"自助法：{bootstrap} 次抽样中 {b['not_converged']} 次未收敛、{b['inadmissible']} 次解不可接受"
                            + ("；参数的置信区间保留不可接受的抽样（与 lavaan 相同），由解计算的统计量（指数、重要性、"
                               "优先级）只用可接受的抽样。" if b.get("inadmissible") and extra is not None else "。"))
    ci_text = CI_TEXT.get((estimator, missing), CI_TEXT[estimator])
    measures.update(converged=fit.converged, admissible=admissible, diagnosis=diagnosis, warnings=warnings,
                    notes=notes, notes_zh=notes_zh, iterations=fit.iterations, max_gradient=fit.grad_norm,
                    ci="bootstrap percentile" if bootstrap and admissible else ci_text)
    if draws is not None and draws.stopped_early:
        measures["ci"] = "withheld (bootstrap stopped early)"
    extra_draws = draws.extra if draws is not None and not draws.stopped_early else None
    if extra_draws is not None:     # nothing is computed from an improper solution, in a draw either
        extra_draws = np.where((draws.converged & draws.admissible)[:, None], extra_draws, np.nan)
    return Result(model=model, n=n, fit=fit, estimates=table, measures=measures, bootstrap=boot, data=X,
                  extra_draws=extra_draws, vcov=vcov, ordinal=ordinal)


def _fit_complete(model: Model, X: np.ndarray, estimator: str):
    """ML on the sample covariance; MLM/MLR add their SEs and scaled chi-squares."""
    from . import robust

    S = sample_cov(X)
    fit = model.fit(S)
    n = len(X)
    measures = fit_measures(model, fit, S, n)
    vcov, c, c_b = None, None, None          # ML: the table's default, inverse expected information
    if estimator != "ML" and fit.converged:
        try:
            r = (robust.mlm if estimator == "MLM" else robust.mlr)(model, fit.x, X, S, measures["df"],
                                                                     measures["baseline_df"])
            vcov, c, c_b = r.vcov, r.scaling, r.scaling_baseline
        except np.linalg.LinAlgError:
            pass
    measures.update(robust_measures(measures, c, c_b) if c is not None else dict.fromkeys(ROBUST_KEYS))
    if estimator != "ML" and vcov is None:   # not converged: no robust SEs
        vcov = np.full((len(fit.x), len(fit.x)), np.nan)
    return fit, vcov, measures


def _fit_wlsmv(model: Model, X: np.ndarray):
    """DWLS on polychoric correlations with lavaan's WLSMV SEs and tests (ordinal.py)."""
    from .ordinal import threshold_rows, wlsmv

    w = wlsmv(model, X)
    return w.fit, w.vcov, w.measures, threshold_rows(model, w), w


def _fit_fiml(model: Model, X: np.ndarray, estimator: str):
    from . import robust
    from .fiml import FIML

    pats = Patterns(X)
    mu1, sigma1, _ = pats.em()
    F = FIML(model, pats, (mu1, sigma1))
    fit = F.fit()
    n = len(X)
    measures = fiml_measures(model, F, fit, n)
    q = len(fit.x)
    vcov, c, c_b, corrected = np.full((q, q), np.nan), None, None, None
    if fit.converged:
        try:
            r = robust.fiml(F, fit.x, n, measures["df"], measures["baseline_df"], estimator)
            vcov, c, c_b, corrected = r.vcov, r.scaling, r.scaling_baseline, r.fiml
        except np.linalg.LinAlgError:
            pass
    measures.update(robust_measures(measures, c, c_b, corrected))
    return fit, F, vcov, measures


def _notes(model: Model, data: pd.DataFrame, X: pd.DataFrame, F,
           missing: str = "listwise") -> tuple[list[str], list[str]]:
    """Notes on how the data were used, in English and in Chinese (for the reports)."""
    dropped = len(data) - len(X)
    en, zh = [], []

    def note(e: str, z: str) -> None:
        en.append(e)
        zh.append(z)

    if missing == "pairwise":
        incomplete = int(X.isna().any(axis=1).sum())
        note(f"Pairwise deletion (lavaan's missing = \"pairwise\"): {len(X)} rows, {incomplete} of them incomplete.",
             f"成对删除（lavaan 的 missing = \"pairwise\"）：{len(X)} 行，其中 {incomplete} 行不完整。")
        if dropped:
            note(f"{dropped} row(s) with no model variable answered were left out.",
                 f"{dropped} 行未回答任何模型变量，未纳入。")
    elif F is not None:
        incomplete = int(X.isna().any(axis=1).sum())
        note(f"FIML: {len(X)} rows, {incomplete} of them incomplete ({len(F.pats.masks)} missingness "
             "patterns); intercepts are estimated (lavaan's missing = \"ml\").",
             f"全信息极大似然（FIML）：{len(X)} 行，其中 {incomplete} 行不完整（{len(F.pats.masks)} 种缺失模式）；"
             "同时估计截距（lavaan 的 missing = \"ml\"）。")
        if dropped:
            note(f"{dropped} row(s) with no model variable answered were left out.",
                 f"{dropped} 行未回答任何模型变量，未纳入。")
    elif dropped:
        note(f"{dropped} row(s) with missing values in model variables were left out (listwise).",
             f"{dropped} 行的模型变量有缺失，按列表删除法未纳入。")
    if model.auto_covariances:
        note("As lavaan does, the residuals of the outcomes that predict nothing covary freely although "
             f"the model does not write it: {'; '.join(model.auto_covariances)} (write `A ~~ 0*B` to fix one at zero).",
             "与 lavaan 相同，不预测其他变量的结果变量的残差自由相关（模型中未写出）："
             f"{'；'.join(model.auto_covariances)}（写 `A ~~ 0*B` 可将其固定为零）。")
    if model.defined:
        note(f"{len(model.defined)} `:=` definition(s) were not evaluated; indirect and total "
             "effects are listed as ind_*/tot_* rows instead.",
             f"{len(model.defined)} 个 `:=` 定义未计算；间接效应与总效应以 ind_*/tot_* 行列出。")
    return en, zh


SENSITIVITY_COLUMNS = ["estimator", "missing", "lhs", "op", "rhs", "est", "se", "pvalue", "std_all", "admissible"]


def alternative(result: Result, categorical) -> str | None:
    """The estimator a sensitivity check sets beside the result's: MLR beside WLSMV (the items as
    continuous), WLSMV beside ML/MLR/MLM when every model variable is an ordered item; else none."""
    m = result.model
    if result.measures["estimator"] == "WLSMV":
        return "MLR"
    if categorical and set(m.observed) <= set(categorical) and not m.exo:
        return "WLSMV"
    return None


def sensitivity(result: Result, description: str, data: pd.DataFrame, categorical=None, source=None) -> pd.DataFrame:
    """sensitivity.csv: the structural paths (op "~") under the result's estimator and under the
    alternative one (missing data: auto for it), long format; the alternative's rows are empty
    (NaN) when it cannot be fitted or its solution is not admissible."""
    def rows(r: Result | None, est: str, mis: str, admissible: bool):
        t = result.estimates[result.estimates["op"] == "~"][["lhs", "op", "rhs"]].copy()
        if r is not None:
            t = t.merge(r.estimates[["lhs", "op", "rhs", "est", "se", "pvalue", "std_all"]], how="left",
                        on=["lhs", "op", "rhs"])
        for c in ("est", "se", "pvalue", "std_all"):
            if r is None or not admissible:
                t[c] = np.nan
        t.insert(0, "missing", mis)
        t.insert(0, "estimator", est)
        t["admissible"] = admissible
        return t[SENSITIVITY_COLUMNS]

    m = result.measures
    out = [rows(result, m["estimator"], m["missing"], bool(m["admissible"]))]
    alt = alternative(result, categorical)
    if alt is not None:
        try:
            r = estimate(description, data, estimator=alt, missing="auto", model=result.model, source=source,
                         ordered=categorical if alt == "WLSMV" else None)
            out.append(rows(r, alt, r.measures["missing"], bool(r.measures["admissible"])))
        except CSIError:
            out.append(rows(None, alt, "", False))
    return pd.concat(out, ignore_index=True)
