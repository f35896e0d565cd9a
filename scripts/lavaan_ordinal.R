# Reference numbers from lavaan for ordinal SEM (estimator = "WLSMV", ordered items, delta
# parameterization); the tests (tests/test_ordinal.py) never need R.
#   Rscript scripts/lavaan_ordinal.R [OUT_DIR]        (default tests/fixtures/lavaan)
#
# Two cases, each written as OUT_DIR/NAME.csv (the ordinal data, not for chengdu_a which exists),
# NAME.lavaan (for holzinger), and
#   NAME.ordinal.sampstat.csv  thresholds (kind "th", name "x1|t1") and polychoric correlations
#                              (kind "cor", lhs, rhs) as lavaan's sample statistics
#   NAME.ordinal.gamma.csv     lavInspect(fit, "gamma"): NACOV of (thresholds, correlations)
#                              (holzinger_ordinal only; rows/columns in lavaan's order)
#   NAME.wlsmv.estimates.csv   parameterEstimates + std.all (incl. thresholds, op "|")
#   NAME.wlsmv.fit.csv         fit measures incl. the scaled.shifted shift parameter
#
# (a) holzinger_ordinal: HolzingerSwineford1939 x1..x9, each cut into 4 categories (1..4) at its
#     own sample quantiles 0.20, 0.50, 0.80 (quantile type 7; cut(..., include.lowest = TRUE)),
#     3-factor CFA (visual, textual, speed), ordered = all.
# (b) chengdu_a: data/models/csi_government.lavaan on tests/fixtures/lavaan/chengdu_a.csv,
#     complete cases, every item ordered (5- and 3-point items; cmp_complained binary).
# (c) chengdu_a_pairwise: the same with every row (65 of 1000 have blank cells) and
#     missing = "pairwise".
# (d) holzinger_pairwise: (a)'s data with blank cells (x2 in every 7th row, x5 in every 11th,
#     x7 and x9 in every 13th), missing = "pairwise", its Gamma too; and
#     holzinger_pairwise.boot.csv: lavaan's bootstrap (B = 1000, set.seed(1); lavaan asks for
#     estimator = "DWLS" with se = "bootstrap": WLSMV's estimates) SEs and percentile CIs.
#   NAME.wlsmv.reliability.csv semTools' compRelSEM (ord.scale = TRUE: Green & Yang 2009) and AVE
#                              of the CFA by WLSMV (holzinger_ordinal; chengdu_a_cfa: the
#                              measurement part of the CSI model, every row, missing = "pairwise")
suppressPackageStartupMessages({library(lavaan); library(semTools)})
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/fixtures/lavaan"

write_case <- function(name, model, data, gamma = FALSE, missing = "listwise") {
  fit <- sem(model, data = data, ordered = names(data), estimator = "WLSMV", missing = missing)
  ss <- lavInspect(fit, "sampstat")
  th <- ss$th
  R <- ss$cov
  idx <- which(lower.tri(R), arr.ind = TRUE)
  idx <- idx[order(idx[, 2], idx[, 1]), , drop = FALSE]   # column-wise, as lavaan's vech
  samp <- rbind(
    data.frame(kind = "th", lhs = names(th), rhs = "", value = sprintf("%.12g", as.numeric(th))),
    data.frame(kind = "cor", lhs = rownames(R)[idx[, 1]], rhs = colnames(R)[idx[, 2]],
               value = sprintf("%.12g", R[idx])))
  write.csv(samp, file.path(out_dir, paste0(name, ".ordinal.sampstat.csv")), row.names = FALSE)
  if (gamma) {
    G <- lavInspect(fit, "gamma")
    write.csv(format(as.data.frame(G), digits = 12), file.path(out_dir, paste0(name, ".ordinal.gamma.csv")))
  }
  est <- parameterEstimates(fit, standardized = TRUE)
  est <- est[, c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "std.all")]
  names(est) <- c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "std_all")
  write.csv(est, file.path(out_dir, paste0(name, ".wlsmv.estimates.csv")), row.names = FALSE)
  keys <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
            "chisq.scaling.factor", "baseline.chisq", "baseline.df", "baseline.chisq.scaled",
            "baseline.chisq.scaling.factor", "cfi", "tli", "rmsea", "cfi.scaled", "tli.scaled",
            "rmsea.scaled", "cfi.robust", "tli.robust", "rmsea.robust", "srmr", "ntotal", "fmin",
            "rmsea.ci.lower", "rmsea.ci.upper")
  all <- fitMeasures(fit)
  val <- sapply(keys, function(m) if (m %in% names(all)) as.numeric(all[[m]]) else NA_real_)
  tst <- lavInspect(fit, "test")
  out <- data.frame(measure = keys, value = sprintf("%.12g", val))
  out <- rbind(out, data.frame(
    measure = c("chisq.shift.parameter", "lavaan_version", "converged"),
    value = c(sprintf("%.12g", tst$scaled.shifted$shift.parameter),
              as.character(packageVersion("lavaan")), as.character(lavInspect(fit, "converged")))))
  write.csv(out, file.path(out_dir, paste0(name, ".wlsmv.fit.csv")), row.names = FALSE)
  invisible(fit)
}

# (a)
hs <- HolzingerSwineford1939[, paste0("x", 1:9)]
cut4 <- function(x) as.integer(cut(x, quantile(x, c(0, 0.2, 0.5, 0.8, 1)), include.lowest = TRUE))
hs_ord <- as.data.frame(lapply(hs, cut4))
write.csv(hs_ord, file.path(out_dir, "holzinger_ordinal.csv"), row.names = FALSE)
hs_model <- "visual  =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed   =~ x7 + x8 + x9\n"
writeLines(hs_model, file.path(out_dir, "holzinger_ordinal.lavaan"), sep = "")
write_case("holzinger_ordinal", hs_model, hs_ord, gamma = TRUE)

# (b)
cd <- read.csv(file.path(out_dir, "chengdu_a.csv"))
cd <- cd[complete.cases(cd), ]
csi_model <- paste(readLines("data/models/csi_government.lavaan"), collapse = "\n")
write_case("chengdu_a", csi_model, cd)

# (c)
cd_all <- read.csv(file.path(out_dir, "chengdu_a.csv"))
write_case("chengdu_a_pairwise", csi_model, cd_all, missing = "pairwise")

# (d)
hs_na <- hs_ord
hs_na$x2[seq(7, nrow(hs_na), 7)] <- NA
hs_na$x5[seq(11, nrow(hs_na), 11)] <- NA
hs_na$x7[seq(13, nrow(hs_na), 13)] <- NA
hs_na$x9[seq(13, nrow(hs_na), 13)] <- NA
write.csv(hs_na, file.path(out_dir, "holzinger_pairwise.csv"), row.names = FALSE, na = "")
write_case("holzinger_pairwise", hs_model, hs_na, gamma = TRUE, missing = "pairwise")
set.seed(1)
bfit <- sem(hs_model, data = hs_na, ordered = names(hs_na), estimator = "DWLS", missing = "pairwise",
            se = "bootstrap", bootstrap = 1000)
pe <- parameterEstimates(bfit, boot.ci.type = "perc")
pe <- pe[pe$op %in% c("=~", "~~", "|"), c("lhs", "op", "rhs", "est", "se", "ci.lower", "ci.upper")]
names(pe) <- c("lhs", "op", "rhs", "est", "boot_se", "ci_lower", "ci_upper")
write.csv(pe, file.path(out_dir, "holzinger_pairwise.boot.csv"), row.names = FALSE)

# reliability of ordered items (semTools)
write_reliability <- function(name, model, data, missing = "listwise") {
  fit <- cfa(model, data = data, ordered = names(data), estimator = "WLSMV", missing = missing)
  om <- compRelSEM(fit)
  av <- AVE(fit)
  write.csv(data.frame(construct = names(om), omega = sprintf("%.12g", as.numeric(om)),
                       ave = sprintf("%.12g", as.numeric(av[names(om)]))),
            file.path(out_dir, paste0(name, ".wlsmv.reliability.csv")), row.names = FALSE)
}
write_reliability("holzinger_ordinal", hs_model, hs_ord)
cfa_lines <- grep("=~", strsplit(csi_model, "\n")[[1]], value = TRUE)
cfa_items <- unlist(lapply(strsplit(sub(".*=~", "", cfa_lines), "\\+"), trimws))
write_reliability("chengdu_a_cfa", paste(cfa_lines, collapse = "\n"), cd_all[, cfa_items], missing = "pairwise")
