# lavaan reference for measurement invariance (tests never need R).
#   Rscript scripts/lavaan_invariance.R MODEL.lavaan DATA.csv GROUP OUT.csv
# One row per step: configural, metric (equal loadings), scalar (+ equal intercepts).
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1]), collapse = "\n")
data <- read.csv(args[2])
steps <- list(configural = "none", metric = "loadings", scalar = c("loadings", "intercepts"))
measures <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic", "logl")
rows <- lapply(names(steps), function(s) {
  fit <- cfa(model, data = data, group = args[3], group.equal = steps[[s]])
  fm <- fitMeasures(fit, measures)
  data.frame(model = s, t(sprintf("%.10g", as.numeric(fm))))
})
out <- do.call(rbind, rows)
names(out) <- c("model", measures)
write.csv(out, args[4], row.names = FALSE)
