"""Structural equation models with lavaan's conventions, on top of semopy's model structure.

semopy parses the lavaan-syntax model and builds the LISREL/RAM-type matrices; everything semopy
lacks or gets wrong is done here and tested against lavaan 0.6 (tests/fixtures/lavaan):

- model.py          the model and its matrices (Sigma and its derivatives)
- ml.py             maximum likelihood: Fisher scoring with analytic derivatives, bootstrap refits
- table.py          the parameter table (est, se, std.all), indirect and total effects
- measures.py       fit measures (chi-square, CFI, TLI, RMSEA and its CI, SRMR, GFI, AIC, BIC)
- admissibility.py  plain-language diagnosis of improper or non-converged solutions
- estimate.py       estimate(): the one entry point of the pipeline and `csi fit`
- files.py          reading data, writing estimates.csv / fit.json / bootstrap.csv
"""

from .admissibility import admissibility
from .estimate import Result, complete_cases, estimate
from .files import EST_COLUMNS, FIT_KEYS, check_variables, read_data, write_result
from .measures import fit_measures
from .ml import GRAD_TOL, Fit
from .model import MATRICES, Model, sample_cov, strip_model
from .table import Layout, effects, parameter_table, point_values

__all__ = ["EST_COLUMNS", "FIT_KEYS", "GRAD_TOL", "MATRICES", "Fit", "Layout", "Model", "Result",
           "admissibility", "check_variables", "complete_cases", "effects", "estimate",
           "fit_measures", "parameter_table", "point_values", "read_data", "sample_cov",
           "strip_model", "write_result"]
