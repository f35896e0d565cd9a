# Mardia's multivariate skewness and kurtosis from semTools, reference numbers for the tests.
#   Rscript scripts/mardia_reference.R DATA.csv OUT.csv [COLUMNS]
# COLUMNS: comma-separated (default: every column); rows with a missing value are left out.
suppressPackageStartupMessages(library(semTools))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
if (length(args) > 2) data <- data[, strsplit(args[3], ",")[[1]]]
data <- data[complete.cases(data), ]
k <- mardiaKurtosis(data)
s <- mardiaSkew(data)
out <- data.frame(measure = c("n", "b1d", "skew_chi", "skew_df", "skew_p", "b2d", "kurtosis_z", "kurtosis_p",
                              "semtools_version"),
                  value = c(sprintf("%.12g", c(nrow(data), s[["b1d"]], s[["chi"]], s[["df"]], s[["p"]],
                                              k[["b2d"]], k[["z"]], k[["p"]])),
                            as.character(packageVersion("semTools"))))
write.csv(out, args[2], row.names = FALSE)
