# Reference numbers from lavaan for the tests (tests never need R).
#   Rscript scripts/lavaan_reference.R MODEL.lavaan DATA.csv OUT_PREFIX [B] [--estimator=E] [--missing=M]
# writes OUT_PREFIX.estimates.csv (parameterEstimates + std.all) and OUT_PREFIX.fit.csv
# (fit measures, then lavaan's version, iterations, converged and max |gradient|);
# with B, also OUT_PREFIX.boot_se.csv (bootstrap SEs from B draws, set.seed(1)).
# --estimator (ML, MLM, MLR) and --missing (listwise, ml) are passed to sem(); with either
# away from its default (ML, listwise) fit.csv also lists the scaled and robust measures and
# the loglikelihoods, and the semTools files are not written.
suppressPackageStartupMessages(library(lavaan))
all_args <- commandArgs(trailingOnly = TRUE)
opt <- list(estimator = "ML", missing = "listwise")
for (a in grep("^--", all_args, value = TRUE)) {
  kv <- strsplit(sub("^--", "", a), "=", fixed = TRUE)[[1]]
  if (length(kv) != 2 || !(kv[1] %in% names(opt))) stop("unknown option ", a)
  opt[[kv[1]]] <- kv[2]
}
args <- grep("^--", all_args, value = TRUE, invert = TRUE)
robust <- opt$estimator != "ML" || opt$missing != "listwise"
model <- paste(readLines(args[1]), collapse = "\n")
data <- read.csv(args[2])
fit <- sem(model, data = data, estimator = opt$estimator, missing = opt$missing)
est <- parameterEstimates(fit, standardized = TRUE)
est <- est[, c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "std.all", "ci.lower", "ci.upper")]
names(est) <- c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "std_all", "ci_lower", "ci_upper")
write.csv(est, paste0(args[3], ".estimates.csv"), row.names = FALSE)
fm <- fitMeasures(fit, c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
                         "rmsea.ci.upper", "srmr", "gfi", "aic", "bic", "logl", "ntotal", "fmin"))
out <- data.frame(measure = names(fm), value = sprintf("%.10g", as.numeric(fm)))
if (robust) {
  # every measure lavaan has for this fit; NA where it has none (e.g. chisq.scaled for plain ML)
  extra <- c("unrestricted.logl", "baseline.chisq", "baseline.df", "chisq.scaled", "chisq.scaling.factor",
             "pvalue.scaled", "baseline.chisq.scaled", "baseline.chisq.scaling.factor", "cfi.scaled",
             "tli.scaled", "rmsea.scaled", "cfi.robust", "tli.robust", "rmsea.robust")
  all <- fitMeasures(fit)
  val <- sapply(extra, function(m) if (m %in% names(all)) as.numeric(all[[m]]) else NA_real_)
  out <- rbind(out, data.frame(measure = extra, value = sprintf("%.10g", val)))
  out <- rbind(out, data.frame(measure = c("estimator", "missing"), value = c(opt$estimator, opt$missing)))
}
out <- rbind(out, data.frame(measure = "lavaan_version", value = as.character(packageVersion("lavaan"))))
# the optimizer: iterations, convergence, max |gradient| (of lavaan's objective F_ML / 2)
out <- rbind(out, data.frame(measure = c("iterations", "converged", "max_gradient"),
                             value = c(as.character(lavInspect(fit, "iterations")),
                                       as.character(lavInspect(fit, "converged")),
                                       sprintf("%.10g", max(abs(lavInspect(fit, "optim.gradient")))))))
write.csv(out, paste0(args[3], ".fit.csv"), row.names = FALSE)
if (length(args) >= 4) {
  set.seed(1)
  boot <- sem(model, data = data, estimator = opt$estimator, missing = opt$missing, se = "bootstrap",
              bootstrap = as.integer(args[4]))
  b <- parameterEstimates(boot)[, c("lhs", "op", "rhs", "se")]
  write.csv(b, paste0(args[3], ".boot_se.csv"), row.names = FALSE)
}
# semTools: reliability (alpha, omega, AVE) and HTMT for every model, when installed.
if (!robust && requireNamespace("semTools", quietly = TRUE)) {
  rel <- semTools::reliability(fit)
  rel <- data.frame(measure = rownames(rel), rel, check.names = FALSE)
  write.csv(rel, paste0(args[3], ".reliability.csv"), row.names = FALSE)
  h <- semTools::htmt(model, data = data, htmt2 = FALSE)   # Henseler et al. (2015)
  write.csv(as.data.frame(as.matrix(h)), paste0(args[3], ".htmt.csv"))
  h2 <- semTools::htmt(model, data = data, htmt2 = TRUE)   # geometric means (Roemer et al. 2021)
  write.csv(as.data.frame(as.matrix(h2)), paste0(args[3], ".htmt2.csv"))
}
