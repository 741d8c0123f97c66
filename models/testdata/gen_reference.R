# Regenerates the reference values in this directory with R and the forecast
# package (stats::stl, forecast::mstl, forecast::thetaf, forecast::ets and its
# internal recursion forecast:::pegelsresid.C, forecast:::class1/class2,
# MASS::rlm, stats::cor.test). Run from this directory:
#   Rscript gen_reference.R
# The Go tests only read the JSON files; R is not needed to run them.
suppressMessages(library(forecast))
suppressMessages(library(MASS))

num <- function(x) {
  x <- as.numeric(x)
  v <- ifelse(is.na(x), "null", sprintf("%.17g", x))
  paste0("[", paste(v, collapse = ","), "]")
}
obj <- function(...) {
  a <- list(...)
  paste0("{", paste(sprintf("\"%s\":%s", names(a), unlist(a)), collapse = ","), "}")
}
arr <- function(items) paste0("[", paste(items, collapse = ",\n"), "]")
str <- function(s) sprintf("\"%s\"", s)

# ---------------------------------------------------------------- STL
set.seed(42)
n <- 24 * 14
t <- 0:(n - 1)
y1 <- 20 + 0.05 * t + 5 * sin(2 * pi * t / 24) + 2 * cos(4 * pi * t / 24) + rnorm(n)
y2 <- y1
y2[c(30, 100, 200, 250)] <- y2[c(30, 100, 200, 250)] + c(40, -35, 50, 30)
# Odd length on purpose: for even n the Fortran partial sort used by R's
# robustness weights is called with its two indices in decreasing order and
# can return order statistics other than the two middle ones; the Go code uses
# the exact median. With odd n both indices coincide and results agree.
y2 <- y2[-length(y2)]
set.seed(7)
y3 <- 50 + cumsum(rnorm(140, sd = 0.3)) + rep(c(3, 1, 0, -1, -2, -4, 3), 20)
stlcase <- function(name, y, period, ...) {
  fit <- stl(ts(y, frequency = period), ...)
  obj(name = str(name), period = period, y = num(y),
      seasonal = num(fit$time.series[, "seasonal"]),
      trend = num(fit$time.series[, "trend"]),
      weights = num(fit$weights))
}
cases <- c(
  stlcase("s11", y1, 24, s.window = 11),
  stlcase("s7robust", y2, 24, s.window = 7, robust = TRUE),
  stlcase("periodic", y1, 24, s.window = "periodic"),
  stlcase("weekly_linear", y3, 7, s.window = 13, s.degree = 1, t.window = 21),
  stlcase("nojump", y3, 7, s.window = 9, s.jump = 1, t.jump = 1, l.jump = 1)
)
writeLines(arr(cases), "stl_reference.json")

# ---------------------------------------------------------------- MSTL
set.seed(11)
n <- 24 * 7 * 4
t <- 0:(n - 1)
wk <- ifelse((t %/% 24) %% 7 >= 5, -6, 0)
ym <- 100 + 0.02 * t + 8 * sin(2 * pi * t / 24) + wk + rnorm(n)
ym <- ym[-n] # odd length, see the note on y2 above
msfit <- function(robust) {
  f <- mstl(msts(ym, seasonal.periods = c(24, 168)), robust = robust)
  obj(robust = ifelse(robust, "true", "false"), y = num(ym), trend = num(f[, "Trend"]),
      seasonal24 = num(f[, "Seasonal24"]), seasonal168 = num(f[, "Seasonal168"]),
      remainder = num(f[, "Remainder"]))
}
writeLines(arr(c(msfit(FALSE), msfit(TRUE))), "mstl_reference.json")

# ---------------------------------------------------------------- ETS recursions
n <- 48
t <- 0:(n - 1)
seasA <- c(8, -3, 5, -10)
ye <- 100 + 0.5 * t + seasA[t %% 4 + 1] + 3 * sin(1.7 * t)
models <- c("ANN", "AAN", "AAdN", "ANA", "AAA", "AAdA", "MNN", "MAN", "MAdN",
            "MNA", "MAA", "MAdA", "MNM", "MAM", "MAdM")
par <- c(alpha = 0.3, beta = 0.05, gamma = 0.1, phi = 0.95)
cases <- c()
for (mod in models) {
  e <- substr(mod, 1, 1)
  tr <- substr(mod, 2, 2)
  damped <- grepl("d", mod)
  se <- substr(mod, nchar(mod), nchar(mod))
  st <- 100
  if (tr == "A") st <- c(st, 0.5)
  seas <- NULL
  if (se == "A") seas <- seasA
  if (se == "M") seas <- 1 + seasA / 100
  # forecast's state vector holds the most recent seasonal first
  if (!is.null(seas)) st <- c(st, rev(seas))
  m <- ifelse(se == "N", 1, 4)
  r <- forecast:::pegelsresid.C(ye, m, st, e, tr, se, damped,
                                par["alpha"], par["beta"], par["gamma"], par["phi"], 3)
  last <- r$states[n + 1, ]
  h <- 10
  sig2 <- ifelse(e == "A", 2.5, 0.0004)
  v <- rep(NA, h)
  mu <- rep(NA, h)
  if (se != "M" && tr != "N") {
    cl <- if (e == "A") forecast:::class1 else forecast:::class2
    o <- cl(h, last, tr, se, damped, m, sig2, par)
    v <- o$var
    mu <- o$mu
  }
  cases <- c(cases, obj(model = str(mod), y = num(ye), period = m,
    init = num(st), resid = num(r$e), lik = sprintf("%.17g", r$lik),
    last = num(last), sigma2 = sig2, mu = num(mu), var = num(v)))
}
writeLines(arr(cases), "ets_recursion_reference.json")

# ---------------------------------------------------------------- ETS estimation
set.seed(3)
yn <- 200 + cumsum(rnorm(80, mean = 0.4, sd = 2))
cases <- c()
for (mod in c("ANN", "AAN", "AAdN", "MNN", "MAN", "MAdN")) {
  damped <- grepl("d", mod)
  f <- ets(yn, model = sub("d", "", mod), damped = damped, opt.crit = "lik")
  res <- residuals(f)
  lik <- length(yn) * log(sum(res^2))
  if (substr(mod, 1, 1) == "M") lik <- lik + 2 * sum(log(abs(fitted(f))))
  cases <- c(cases, obj(model = str(mod), y = num(yn), lik = sprintf("%.17g", lik),
    alpha = f$par["alpha"], mean = num(forecast(f, h = 5)$mean)))
}
writeLines(arr(cases), "ets_fit_reference.json")

# ---------------------------------------------------------------- Theta
set.seed(5)
yt1 <- 50 + 0.3 * (1:60) + arima.sim(list(ar = 0.5), 60)
set.seed(6)
yt2 <- (100 + 0.5 * (1:72)) * rep(c(0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.2, 1.1, 1.0, 0.9, 0.8, 0.7), 6) * exp(rnorm(72, sd = 0.02))
thcase <- function(name, y, m) {
  f <- thetaf(ts(y, frequency = m), h = 12)
  obj(name = str(name), period = m, y = num(y), mean = num(f$mean),
      lo95 = num(f$lower[, 2]), hi95 = num(f$upper[, 2]), alpha = f$model$alpha)
}
writeLines(arr(c(thcase("nonseasonal", yt1, 1), thcase("seasonal", yt2, 12))), "theta_reference.json")

# ---------------------------------------------------------------- Benchmarks
set.seed(9)
yb <- round(40 + 0.2 * (1:30) + rnorm(30, sd = 3), 2)
sn <- snaive(ts(yb, frequency = 7), h = 10)
dr <- rwf(yb, h = 10, drift = TRUE)
nv <- naive(yb, h = 10)
writeLines(obj(y = num(yb),
  snaive_mean = num(sn$mean), snaive_lo80 = num(sn$lower[, 1]), snaive_hi95 = num(sn$upper[, 2]),
  drift_mean = num(dr$mean), drift_lo80 = num(dr$lower[, 1]), drift_hi95 = num(dr$upper[, 2]),
  naive_mean = num(nv$mean), naive_lo80 = num(nv$lower[, 1]), naive_hi95 = num(nv$upper[, 2])),
  "benchmark_reference.json")

# ---------------------------------------------------------------- Robust regression and trend tests
set.seed(21)
n <- 96
t <- 0:(n - 1)
yr <- 10 + 0.1 * t + 3 * sin(2 * pi * t / 24) + 1.5 * cos(2 * pi * t / 24) + rnorm(n, sd = 0.5)
yr[c(10, 50, 70)] <- yr[c(10, 50, 70)] + c(15, -12, 20)
X <- cbind(t / n, sin(2 * pi * t / 24), cos(2 * pi * t / 24), sin(4 * pi * t / 24), cos(4 * pi * t / 24))
rf <- rlm(yr ~ X, psi = psi.huber, k = 1.345, maxit = 500, acc = 1e-12)
mk_y <- round(yr[1:40], 0)
ct <- cor.test(seq_along(mk_y), mk_y, method = "kendall", exact = FALSE, continuity = TRUE)
S <- 0
for (i in 1:39) for (j in (i + 1):40) S <- S + sign(mk_y[j] - mk_y[i])
ts_x <- c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 12)
ts_y <- c(2.1, 3.9, 6.2, 7.8, 10.1, 12.2, 13.8, 16.1, 60, 20.2, 19.9, 24.1)
sl <- c()
for (i in 1:11) for (j in (i + 1):12) if (ts_x[j] != ts_x[i]) sl <- c(sl, (ts_y[j] - ts_y[i]) / (ts_x[j] - ts_x[i]))
b <- median(sl)
writeLines(obj(y = num(yr), rlm_coef = num(coef(rf)),
  mk_y = num(mk_y), mk_S = S, mk_z = unname(ct$statistic), mk_p = ct$p.value,
  ts_x = num(ts_x), ts_y = num(ts_y), ts_slope = b, ts_intercept = median(ts_y - b * ts_x)),
  "trend_reference.json")
