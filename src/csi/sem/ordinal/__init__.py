"""Ordinal SEM as lavaan's estimator = "WLSMV" with ordered items (delta parameterization).

- thresholds: per ordered item, qnorm of the cumulative proportions of its categories (lavaan's
  univariate ML without covariates);
- polychoric (tetrachoric) correlations: two-step ML, thresholds fixed, maximizing the
  bivariate-normal likelihood of each two-way table (lavaan's lav_bvord; a 2x2 table with one
  empty cell gets lavaan's zero.add = 0.5 keeping the margins);
- Gamma (lavaan's NACOV, lavInspect(fit, "gamma")): Muthen (1984) from casewise scores,
  N B^-1 INNER B^-T with INNER the crossproduct of the stacked univariate and bivariate scores
  and B the block-triangular "bread" (A11 per item, A21 the cross-products of the correlation
  scores with the bivariate threshold scores, A22 diagonal);
- DWLS: F = (r - rho(theta))' W (r - rho(theta)), W = diag(Gamma)^-1 over the correlations (the
  thresholds are saturated: their estimates are the sample thresholds); residual variances of y*
  follow from the model as lavaan's setResidualElements does (Theta = 1 - diag(Sigma) with the
  residual elements at zero; for an ordered item that is an outcome or predictor in the
  structural part, the residual variance of its inner variable);
- robust SEs E^-1 D'W Gamma W D E^-1 / N, lavaan's "scaled.shifted" chi-square, scaled CFI/TLI/
  RMSEA, and lavaan 0.6-14's robust CFI/TLI/RMSEA for categorical data (lav_fit_catml_dwls:
  ML evaluated at the DWLS estimates against the polychoric matrix, Savalei 2021).
Complete cases (listwise) or pairwise; all-ordered models without exogenous covariates.

- bivariate.py  the bivariate normal CDF and density
- sample.py     thresholds, polychoric correlations, Gamma
- dwls.py       the delta parameterization, DWLS, WLSMV's SEs, tests and fit measures, bootstrap refits
- table.py      checks for estimate() and the threshold rows of the parameter table
"""

from .bivariate import bvn_cdf, bvn_pdf
from .dwls import WLSMV, DeltaModel, fit_dwls, refit, wlsmv
from .sample import OrdinalSample, ordinal_sample, polychorics, thresholds
from .table import add_thresholds, check_ordered, threshold_ci, threshold_rows

__all__ = ["WLSMV", "DeltaModel", "OrdinalSample", "add_thresholds", "bvn_cdf", "bvn_pdf", "check_ordered",
           "fit_dwls", "ordinal_sample", "polychorics", "refit", "threshold_ci", "threshold_rows",
           "thresholds", "wlsmv"]
