# Reference numbers from lavaan + semTools for measurement invariance with ordered items (WLSMV,
# delta parameterization, Wu & Estabrook 2016 identification); tests/test_ordinal_invariance.py
# never needs R.
#   Rscript scripts/lavaan_ordinal_invariance.R [OUT_DIR]     (default tests/fixtures/lavaan)
#
# Each case NAME writes OUT_DIR/NAME.csv (data with the group column), NAME.lavaan (the CFA) and
#   NAME.fit.csv        step, measure, value: fitMeasures of each step
#   NAME.estimates.csv  step, group, lhs, op, rhs, est, se (parameterEstimates)
#   NAME.lrt.csv        step, compared_with, df_diff, chisq_diff, pvalue: lavTestLRT of each step
#                       against the one before (WLSMV: Satorra 2000, scaled-shifted)
# Steps: semTools::measEq.syntax(..., ordered = all, parameterization = "delta",
# ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group.equal = ) with group.equal
# configural / thresholds / thresholds+loadings (metric) / thresholds+loadings+intercepts (scalar).
#
# (a) holzinger_groups: HolzingerSwineford1939 x1..x9 cut into 4 categories at their sample
#     quantiles .2/.5/.8 (as holzinger_ordinal), x3 capped at 3 categories, x6 made binary (> 2),
#     groups = school (Pasteur, Grant-White).
# (b) holzinger_groups_pairwise: (a) with blank cells (x2 in every 7th row, x5 every 11th, x8
#     every 13th), missing = "pairwise".
# (c) holzinger_groups_merged: (a) where no Pasteur pupil has x1 = 1 (recoded to 2 in that group):
#     the written data keep 1 for Grant-White; lavaan is fitted with x1's 1 counted as 2 in both
#     groups, as the project merges a category some group never gave.
suppressPackageStartupMessages({library(lavaan); library(semTools)})
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/fixtures/lavaan"

STEPS <- list(configural = "configural", thresholds = "thresholds",
              metric = c("thresholds", "loadings"), scalar = c("thresholds", "loadings", "intercepts"))
KEYS <- c("npar", "chisq", "df", "chisq.scaled", "chisq.scaling.factor", "pvalue.scaled", "cfi.scaled",
          "tli.scaled", "rmsea.scaled", "baseline.chisq", "baseline.df", "baseline.chisq.scaled", "cfi", "rmsea",
          "srmr", "ntotal")

write_case <- function(name, model, data, group, missing = "listwise", fit_data = data) {
  items <- setdiff(names(data), group)
  write.csv(data, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE, na = "")
  data <- fit_data
  writeLines(model, file.path(out_dir, paste0(name, ".lavaan")), sep = "")
  fits <- list(); fit_rows <- list(); est_rows <- list(); lrt_rows <- list()
  for (step in names(STEPS)) {
    syntax <- measEq.syntax(model, data = data, ordered = items, parameterization = "delta",
                            ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = group,
                            group.equal = STEPS[[step]])
    fit <- cfa(as.character(syntax), data = data, ordered = items, group = group,
               parameterization = "delta", estimator = "WLSMV", missing = missing)
    fits[[step]] <- fit
    fm <- fitMeasures(fit)
    val <- sapply(KEYS, function(k) if (k %in% names(fm)) as.numeric(fm[[k]]) else NA_real_)
    tst <- lavInspect(fit, "test")$scaled.shifted
    fit_rows[[step]] <- data.frame(step = step, measure = c(KEYS, "chisq.shift.parameter", "converged"),
                                   value = c(sprintf("%.12g", val), sprintf("%.12g", tst$shift.parameter),
                                             as.character(lavInspect(fit, "converged"))))
    pe <- parameterEstimates(fit)
    pe <- pe[pe$op %in% c("=~", "~~", "~1", "|", "~*~"), ]
    est_rows[[step]] <- data.frame(step = step, group = lavInspect(fit, "group.label")[pe$group],
                                   lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = sprintf("%.12g", pe$est),
                                   se = sprintf("%.12g", pe$se))
  }
  names_ <- names(STEPS)
  for (i in 2:length(names_)) {
    lrt <- lavTestLRT(fits[[names_[i - 1]]], fits[[names_[i]]])
    lrt_rows[[i]] <- data.frame(step = names_[i], compared_with = names_[i - 1],
                                df_diff = lrt[["Df diff"]][2], chisq_diff = sprintf("%.12g", lrt[["Chisq diff"]][2]),
                                pvalue = sprintf("%.12g", lrt[["Pr(>Chisq)"]][2]))
  }
  write.csv(do.call(rbind, fit_rows), file.path(out_dir, paste0(name, ".fit.csv")), row.names = FALSE)
  write.csv(do.call(rbind, est_rows), file.path(out_dir, paste0(name, ".estimates.csv")), row.names = FALSE)
  write.csv(do.call(rbind, lrt_rows), file.path(out_dir, paste0(name, ".lrt.csv")), row.names = FALSE)
}

# (a)
hs <- HolzingerSwineford1939
cut4 <- function(x) as.integer(cut(x, quantile(x, c(0, 0.2, 0.5, 0.8, 1)), include.lowest = TRUE))
d <- as.data.frame(lapply(hs[, paste0("x", 1:9)], cut4))
d$x3 <- pmin(d$x3, 3L)
d$x6 <- as.integer(d$x6 > 2)
d$school <- as.character(hs$school)
hs_model <- "visual  =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed   =~ x7 + x8 + x9\n"
write_case("holzinger_groups", hs_model, d, "school")

# (b)
d_na <- d
d_na$x2[seq(7, nrow(d_na), 7)] <- NA
d_na$x5[seq(11, nrow(d_na), 11)] <- NA
d_na$x8[seq(13, nrow(d_na), 13)] <- NA
write_case("holzinger_groups_pairwise", hs_model, d_na, "school", missing = "pairwise")

# (c)
d_m <- d
d_m$x1[d_m$school == "Pasteur" & d_m$x1 == 1] <- 2L
d_fit <- d_m
d_fit$x1[d_fit$x1 == 1] <- 2L
write_case("holzinger_groups_merged", hs_model, d_m, "school", fit_data = d_fit)
