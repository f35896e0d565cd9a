"""Checks before fitting: data a model cannot be fitted to stop here, within seconds, with the
variable and count named and what to do (not as a linear-algebra error deep in the optimizer).

Rules (Bentler & Chou 1987 advise at least 5 cases per free parameter):
- every model variable is a numeric column of the data, answered by someone, and not constant;
- some respondents answered every model variable (listwise deletion);
- more complete respondents than model variables (else the sample covariance is singular);
- the model is identified by counting: free parameters <= variances and covariances (df >= 0);
- at least MIN_PER_PARAMETER complete respondents per free parameter (fewer: stop); fewer than
  ADVISED_PER_PARAMETER gives a warning in fit.json instead.
"""

from __future__ import annotations

import functools

import pandas as pd

from ..errors import CSIError
from .model import strip_model

MIN_PER_PARAMETER = 2
ADVISED_PER_PARAMETER = 5




class TooFewRespondents(CSIError):
    """The data hold too few (complete) respondents for the model."""

def observed_variables(description: str, model_file=None) -> list[str]:
    return list(_observed(description, None if model_file is None else str(model_file)))


@functools.lru_cache(maxsize=8)
def _observed(description: str, model_file) -> tuple[str, ...]:
    import semopy   # parsing costs ~0.4 s: once per model text and process

    try:
        return tuple(semopy.Model(strip_model(description)[0]).vars["observed"])
    except Exception as e:  # semopy's parser raises bare exceptions on syntax errors
        raise CSIError(f"the model could not be parsed ({type(e).__name__}: {e})", file=model_file,
                       hint="check the lavaan syntax (=~ loadings, ~ regressions, ~~ covariances).") from None


def _where(data_file) -> str:
    from pathlib import Path

    if data_file is None:
        return "the data"
    p = Path(data_file)
    if p.name == "clean.parquet":
        return f"{p} (after cleaning: see flow.json and exclusions.csv beside it)"
    return str(p)


def check_data(description: str, data: pd.DataFrame, model_file=None, data_file=None,
               missing: str = "listwise") -> list[str]:
    """Raise CSIError if the model cannot be fitted to `data`; return its observed variables.
    missing = "fiml" needs no complete row, but every pair of variables answered together."""
    observed = observed_variables(description, model_file)
    absent = [v for v in observed if v not in data.columns]
    if absent:
        raise CSIError(f"the model uses variable(s) not in the data: {', '.join(absent)}", file=model_file,
                       hint=f"columns of {data_file or 'the data'} are: {', '.join(map(str, data.columns[:40]))}; "
                            "rename the variable in the model or add the column.")
    bad = [v for v in observed if not pd.api.types.is_numeric_dtype(data[v])]
    if bad:
        raise CSIError(f"model variable(s) are not numeric: {', '.join(bad)}", file=data_file, column=bad[0],
                       hint="SEM needs numeric codes; recode the column first.")
    if len(data) == 0:
        raise CSIError("there are no respondents to fit the model to (0 rows)", file=data_file,
                       hint=f"every row of {_where(data_file)} is gone: if cleaning excluded everyone, check which "
                            "step did (flow.json) and its threshold under `clean:` in config/config.yaml; "
                            "otherwise the export holds no responses.")
    problems = []
    for v in observed:
        x = pd.to_numeric(data[v], errors="coerce").dropna()
        if x.empty:
            problems.append(f"{v}: no answers among the {len(data)} respondents (all missing)")
        elif x.nunique() == 1:
            problems.append(f"{v}: all {len(x)} answers are {x.iloc[0]:g} (no variance)")
    if problems:
        first = problems[0].split(":")[0]
        raise CSIError(f"{len(problems)} model variable(s) carry no information", file=data_file, column=first,
                       problems=problems,
                       hint="a variable nobody answered or everybody answered alike cannot be modelled: check "
                            "its coding (validate's recoded_cells.csv lists cells set to missing) or drop it from "
                            "the model file.")
    if missing in ("fiml", "ml"):
        answered = data[observed].notna().to_numpy(int)
        together = answered.T @ answered           # rows answering both of each pair (lavaan's coverage)
        never = [f"{observed[i]} and {observed[j]}" for i in range(len(observed)) for j in range(i)
                 if together[i, j] == 0]
        if never:
            raise CSIError(f"{len(never)} pair(s) of model variables were never answered by the same respondent: "
                           "their covariance cannot be estimated (FIML coverage 0)", file=data_file,
                           problems=never[:10], hint="such items were asked of different respondents (e.g. "
                           "routed questions): do not put them in one model, or model the groups separately.")
        return observed
    complete = int(data[observed].notna().all(axis=1).sum())
    if complete == 0:
        share = data[observed].isna().mean().sort_values(ascending=False)
        worst = [f"{v} ({100 * s:.0f}% missing)" for v, s in share.head(5).items()]
        raise CSIError(f"no respondent answered every model variable ({len(data)} rows, 0 complete)",
                       file=data_file, problems=worst,
                       hint="listwise deletion leaves nobody: use missing = fiml (`missing:` in the config, "
                            "--missing fiml), drop the variables most often skipped (listed) from the model, or "
                            "check whether they apply to every respondent.")
    return observed


def check_size(q: int, p: int, n: int, model_file=None, data_file=None, fiml: bool = False) -> list[str]:
    """Stop when n complete respondents (with fiml: respondents) cannot support q free (co)variance
    parameters of a model of p variables; return warnings (for fit.json) when they support it only weakly."""
    moments = p * (p + 1) // 2
    if q > moments:
        raise CSIError(f"the model is not identified: {q} free parameters but only {moments} variances and "
                       f"covariances of its {p} variables (df = {moments - q})", file=model_file,
                       hint="fix parameters (e.g. a marker loading per factor, residual variance of a "
                            "single-item factor at 0) or remove paths until df >= 0.")
    complete = "" if fiml else "complete "
    if n <= p:
        raise TooFewRespondents(f"{n} {complete}respondents for {p} model variables: the covariance matrix of fewer "
                       "respondents than variables cannot be inverted", file=data_file,
                       hint="collect more responses or model fewer variables.")
    if n < MIN_PER_PARAMETER * q:
        raise TooFewRespondents(f"too few respondents: {n} {complete}for {q} free parameters ({n / q:.1f} per parameter; "
                       f"the pipeline needs at least {MIN_PER_PARAMETER}, and {ADVISED_PER_PARAMETER} are "
                       "advised)", file=data_file,
                       hint="collect more responses, or simplify the model (fewer constructs or items)"
                            + ("." if fiml else f"; listwise deletion counts only respondents who answered all "
                               f"{p} variables."))
    if n < ADVISED_PER_PARAMETER * q:
        return [f"{n} {complete}respondents for {q} free parameters ({n / q:.1f} per parameter; at least "
                f"{ADVISED_PER_PARAMETER} are advised, Bentler & Chou 1987): estimates and fit measures are "
                "unstable, read them with caution."]
    return []


def check_groups(data: pd.DataFrame, group: str, data_file=None, min_n: int = 1) -> list:
    """The levels of a grouping column, refusing one with fewer than two levels."""
    counts = data[group].value_counts(dropna=True)
    if len(counts) < 2:
        only = "no values" if counts.empty else f"one level ({counts.index[0]!r}, {int(counts.iloc[0])} rows)"
        raise CSIError(f"grouping column {group!r} has {only}: a comparison across groups needs two",
                       file=data_file, column=group,
                       hint="compare on another column, or, if the survey has only one respondent type, give "
                            "this column role `demographic` in the codebook so no comparison by type is run.")
    small = counts[counts < min_n]
    if len(small):
        raise CSIError(f"group(s) of {group!r} too small to fit the model in: "
                       + ", ".join(f"{k!r} ({v} rows)" for k, v in small.items()), file=data_file, column=group,
                       hint=f"each group needs at least {min_n} complete respondents for this model; merge small "
                            "groups or drop them from the comparison.")
    return list(counts.index)
