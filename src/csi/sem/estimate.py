"""Fit a model to data: the one entry point used by the pipeline and `csi fit`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .admissibility import diagnose
from .checks import check_data, check_size
from .measures import fit_measures
from .ml import Fit
from .model import Model, sample_cov
from .table import Layout, parameter_table


@dataclass
class Result:
    model: "Model"
    n: int
    fit: Fit
    estimates: pd.DataFrame
    measures: dict
    bootstrap: pd.DataFrame | None = None
    data: pd.DataFrame | None = None          # the complete cases the model was fitted to
    extra_draws: np.ndarray | None = None     # bootstrap draws of the `extra` statistic



def complete_cases(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return data[columns].apply(pd.to_numeric, errors="raise").dropna()


def estimate(description: str, data: pd.DataFrame, *, bootstrap: int = 0, seed: int = 0,
             jobs: int = 1, progress: bool = False, extra=None, model: Model | None = None,
             source=None) -> Result:
    """Fit a lavaan-syntax model by ML to the complete cases of `data` (listwise, as lavaan).

    With bootstrap = B > 0 the CIs in the table are bootstrap percentile CIs (see bootstrap.py);
    `progress` (True, or a label such as the output folder) prints its progress.
    An inadmissible or non-converged solution is diagnosed (measures['diagnosis']) and not
    bootstrapped: it is not a basis for findings. `source`: the data file, named in messages.
    """
    if model is None:
        check_data(description, data, data_file=source)
        model = Model(description, data)
    X = complete_cases(data, model.observed)
    warnings = check_size(len(model.start), model.p, len(X), data_file=source)
    S = sample_cov(X.to_numpy(float))
    fit = model.fit(S)
    table = parameter_table(model, fit, len(X))
    measures = fit_measures(model, fit, S, len(X))
    findings = diagnose(model, fit, table)
    diagnosis = [f["text"] for f in findings if f["inadmissible"]]
    warnings += [f["text"] for f in findings if not f["inadmissible"]]
    admissible = fit.converged and not diagnosis
    if not admissible:     # not a basis for findings: no significance or confidence intervals
        table[["z", "pvalue", "ci_lower", "ci_upper"]] = np.nan
    dropped = len(data) - len(X)
    notes = [f"{dropped} row(s) with missing values in model variables were left out (listwise)."] \
        if dropped else []
    if model.auto_covariances:
        notes.append("As lavaan does, the residuals of the outcomes that predict nothing covary freely although "
                     f"the model does not write it: {'; '.join(model.auto_covariances)} (write `A ~~ 0*B` to fix "
                     "one at zero).")
    if model.defined:
        notes.append(f"{len(model.defined)} `:=` definition(s) were not evaluated; indirect and total "
                     "effects are listed as ind_*/tot_* rows instead.")
    boot, draws = None, None
    if bootstrap:
        from .. import bootstrap as bs

        if admissible:
            draws = bs.run(model, X.to_numpy(float), fit, Layout.of(model, fit.x), bootstrap, seed,
                           jobs=jobs, progress=progress, extra=extra)
            ci = bs.percentile_table(draws).iloc[table.attrs["layout_order"]].reset_index(drop=True)
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
                         f"{b['inadmissible']} were inadmissible.")
    measures.update(converged=fit.converged, admissible=admissible, diagnosis=diagnosis, warnings=warnings,
                    notes=notes, iterations=fit.iterations, max_gradient=fit.grad_norm,
                    ci="bootstrap percentile" if bootstrap and admissible else "normal theory (expected information)")
    if draws is not None and draws.stopped_early:
        measures["ci"] = "withheld (bootstrap stopped early)"
    extra_draws = draws.extra if draws is not None and not draws.stopped_early else None
    return Result(model=model, n=len(X), fit=fit, estimates=table, measures=measures, bootstrap=boot, data=X,
                  extra_draws=extra_draws)
