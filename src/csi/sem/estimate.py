"""Fit a model to data: the one entry point used by the pipeline and `csi fit`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .admissibility import admissibility
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
             jobs: int = 1, progress: bool = False, extra=None, model: Model | None = None) -> Result:
    """Fit a lavaan-syntax model by ML to the complete cases of `data` (listwise, as lavaan).

    With bootstrap = B > 0 the CIs in the table are bootstrap percentile CIs (see bootstrap.py).
    """
    model = model or Model(description, data)
    X = complete_cases(data, model.observed)
    S = sample_cov(X.to_numpy(float))
    fit = model.fit(S)
    table = parameter_table(model, fit, len(X))
    measures = fit_measures(model, fit, S, len(X))
    warns = admissibility(model, fit, table)
    dropped = len(data) - len(X)
    notes = [f"{dropped} row(s) with missing values in model variables were left out (listwise)."] \
        if dropped else []
    if model.defined:
        notes.append(f"{len(model.defined)} `:=` definition(s) were not evaluated; indirect and total "
                     "effects of the exogenous constructs are listed as ind_*/tot_* rows instead.")
    boot = None
    if bootstrap:
        from .. import bootstrap as bs

        draws = bs.run(model, X.to_numpy(float), fit, Layout.of(model, fit.x), bootstrap, seed,
                       jobs=jobs, progress=progress, extra=extra)
        ci = bs.percentile_table(draws).iloc[table.attrs["layout_order"]].reset_index(drop=True)
        boot = pd.concat([table[["lhs", "op", "rhs", "est"]], ci[["boot_se", "ci_lower", "ci_upper"]],
                          table[["std_all"]], ci[["std_ci_lower", "std_ci_upper"]]], axis=1)
        table["ci_lower"], table["ci_upper"] = ci["ci_lower"].to_numpy(), ci["ci_upper"].to_numpy()
        measures["bootstrap"] = bs.summary(draws, bootstrap)
        failed = measures["bootstrap"]["not_converged"] + measures["bootstrap"]["inadmissible"]
        if failed:
            notes.append(f"bootstrap: {measures['bootstrap']['not_converged']} of {bootstrap} draws did "
                         f"not converge and {measures['bootstrap']['inadmissible']} were inadmissible.")
    measures.update(converged=fit.converged, admissible=not warns, warnings=warns + notes,
                    iterations=fit.iterations, max_gradient=fit.grad_norm,
                    ci="bootstrap percentile" if bootstrap else "normal theory (expected information)")
    result = Result(model=model, n=len(X), fit=fit, estimates=table, measures=measures, bootstrap=boot, data=X, extra_draws=draws.extra if bootstrap else None)
    return result


