"""Structural equation models with lavaan's conventions, on top of semopy's model structure.

semopy parses the lavaan-syntax model and builds the LISREL/RAM-type matrices; everything semopy
lacks or gets wrong is done here and tested against lavaan 0.6 (tests/fixtures/lavaan):

- model.py          the model and its matrices (Sigma and its derivatives)
- ml.py             maximum likelihood: Fisher scoring with analytic derivatives, bootstrap refits
- sample.py         the data: complete cases, missingness patterns, EM (h1), Gamma, normal scores
- fiml.py           full-information ML over missingness patterns (lavaan's missing = "ml")
- robust.py         MLM / MLR: sandwich SEs, Satorra-Bentler and Yuan-Bentler scaling
- ordinal.py        ordered items (lavaan's WLSMV, delta parameterization): thresholds, polychoric
                    correlations, Gamma (Muthen 1984), DWLS, robust SEs, scaled-shifted chi-square,
                    scaled and robust CFI/TLI/RMSEA; listwise or pairwise; bootstrap refits
- table.py          the parameter table (est, se, std.all), indirect and total effects
- measures.py       fit measures (chi-square, CFI, TLI, RMSEA and its CI, SRMR, GFI, AIC, BIC),
                    under FIML too, and their scaled and robust versions
- choice.py         the estimator and missing-data method for the data (auto), and why
- checks.py         data a model cannot be fitted to, stopped before fitting
- admissibility.py  plain-language diagnosis of improper or non-converged solutions
- estimate.py       estimate(): the one entry point of the pipeline and `csi fit`; the sensitivity
                    check (the paths under the alternative estimator)
- files.py          reading data, writing estimates.csv / fit.json / bootstrap.csv
"""

from .admissibility import admissibility, diagnose
from .choice import choose, mardia
from .checks import check_data, check_groups, check_size, observed_variables
from .estimate import ESTIMATORS, MISSING, SENSITIVITY_COLUMNS, Result, alternative, estimate, sensitivity
from .files import EST_COLUMNS, FIT_KEYS, read_data, write_result
from .measures import fit_measures
from .ml import GRAD_TOL, Fit
from .model import MATRICES, Model, sample_cov, strip_model
from .sample import complete_cases
from .table import Layout, effects, parameter_table, point_values, reachable

__all__ = ["ESTIMATORS", "EST_COLUMNS", "SENSITIVITY_COLUMNS", "alternative", "sensitivity", "FIT_KEYS", "MISSING", "GRAD_TOL", "MATRICES", "Fit", "Layout", "Model",
           "Result",
           "admissibility", "check_data", "check_groups", "choose", "mardia", "check_size", "complete_cases", "diagnose",
           "effects", "estimate", "observed_variables",
           "fit_measures", "parameter_table", "point_values", "reachable", "read_data", "sample_cov",
           "strip_model", "write_result"]
