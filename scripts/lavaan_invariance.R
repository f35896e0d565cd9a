# lavaan reference for measurement invariance (tests never need R).
#   Rscript scripts/lavaan_invariance.R MODEL.lavaan DATA.csv GROUP OUT.csv [ESTIMATOR [NFREE]]
# OUT.csv: one row per step: configural, metric (equal loadings), scalar (+ equal intercepts);
# with ESTIMATOR MLR or MLM also the scaled chi-square, its scaling factor and robust CFI/TLI/RMSEA.
# Next to it (OUT without .csv, then):
#   .lrt.csv           lavTestLRT(configural, metric, scalar): the difference tests (MLR/MLM: method
#                      "satorra.bentler.2001", lavTestLRT's default for them)
#   .score.csv         lavTestScore(scalar)$uni: univariate score tests of releasing each equality
#                      constraint, with the parameter (lhs op rhs) and the group it is released in
#   .partial.csv       greedy partial scalar invariance, NFREE (default 2) steps: each step frees the
#                      intercept whose constraint has the largest univariate score statistic (with
#                      group.partial, i.e. in all groups) and refits; the freed parameter, its
#                      statistic and the fit of the resulting model
#   .latent_means.csv  parameterEstimates rows "~1" of the latent variables in groups 2..G, in the
#                      scalar model and in the final partial scalar model
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1]), collapse = "\n")
data <- read.csv(args[2])
group <- args[3]
out_csv <- args[4]
estimator <- if (length(args) >= 5) args[5] else "ML"
nfree <- if (length(args) >= 6) as.integer(args[6]) else 2L
stem <- sub("\\.csv$", "", out_csv)
robust <- estimator != "ML"
steps <- list(configural = "none", metric = "loadings", scalar = c("loadings", "intercepts"))
measures <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic", "logl")
if (robust) {
  measures <- c(measures, "chisq.scaled", "chisq.scaling.factor", "pvalue.scaled", "cfi.robust",
                "tli.robust", "rmsea.robust")
}
num <- function(x) sprintf("%.10g", as.numeric(x))
fit_step <- function(equal, partial = character(0)) {
  cfa(model, data = data, group = group, group.equal = equal, group.partial = partial,
      estimator = estimator)
}
fits <- lapply(steps, fit_step)
rows <- lapply(names(steps), function(s) {
  data.frame(model = s, t(num(fitMeasures(fits[[s]], measures))))
})
out <- do.call(rbind, rows)
names(out) <- c("model", measures)
write.csv(out, out_csv, row.names = FALSE)

# difference tests between consecutive steps
lrt <- lavTestLRT(fits$configural, fits$metric, fits$scalar,
                  method = if (robust) "satorra.bentler.2001" else "default")
write.csv(data.frame(model = names(steps), chisq = num(lrt$Chisq), df = lrt$Df,
                     chisq_diff = num(lrt[["Chisq diff"]]), df_diff = lrt[["Df diff"]],
                     pvalue = num(lrt[["Pr(>Chisq)"]])),
          paste0(stem, ".lrt.csv"), row.names = FALSE)

# univariate score tests, each constraint "a == b" named by b's parameter (its group is the one
# the constraint is released in)
score_table <- function(fit) {
  uni <- lavTestScore(fit, warn = FALSE)$uni
  pt <- parTable(fit)
  at <- match(uni$rhs, pt$plabel)
  lbl <- ifelse(pt$op[at] == "~1", paste0(pt$lhs[at], "~1"), paste0(pt$lhs[at], pt$op[at], pt$rhs[at]))
  data.frame(param = lbl, group = pt$group[at], lhs_label = uni$lhs, rhs_label = uni$rhs,
             X2 = num(uni$X2), df = uni$df, pvalue = num(uni$p.value))
}
scores <- score_table(fits$scalar)
write.csv(scores, paste0(stem, ".score.csv"), row.names = FALSE)

# greedy partial scalar invariance
partial <- character(0)
current <- fits$scalar
prows <- list()
for (k in seq_len(nfree)) {
  s <- score_table(current)
  s <- s[grepl("~1$", s$param) & !(s$param %in% partial), ]
  s$X2 <- as.numeric(s$X2)
  best <- s[which.max(s$X2), ]
  partial <- c(partial, best$param)
  current <- fit_step(steps$scalar, partial)
  prows[[k]] <- data.frame(step = k, freed = best$param, X2 = num(best$X2),
                           t(num(fitMeasures(current, measures))))
}
pout <- do.call(rbind, prows)
names(pout) <- c("step", "freed", "X2", measures)
write.csv(pout, paste0(stem, ".partial.csv"), row.names = FALSE)

# latent means of groups 2..G (group 1 fixed at 0)
latent_rows <- function(fit, name) {
  pe <- parameterEstimates(fit)
  lv <- lavNames(fit, "lv")
  pe <- pe[pe$op == "~1" & pe$lhs %in% lv & pe$group > 1, ]
  data.frame(model = name, factor = pe$lhs, group = lavInspect(fit, "group.label")[pe$group],
             est = num(pe$est), se = num(pe$se), z = num(pe$z), pvalue = num(pe$pvalue),
             ci_lower = num(pe$ci.lower), ci_upper = num(pe$ci.upper))
}
write.csv(rbind(latent_rows(fits$scalar, "scalar"), latent_rows(current, "scalar (partial)")),
          paste0(stem, ".latent_means.csv"), row.names = FALSE)
