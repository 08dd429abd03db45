"""A robust linear model of the log change from the anchor (a scikit-learn regressor).

Bookings are roughly multiplicative in skill, book, market and momentum -- linear on
log scales, where trees only approximate by steps -- so one of the learned candidates
is linear in log space: ``log(ratio) = x @ coef + intercept``, fitted by a Huber loss
(robust to the few reps whose year went wildly off) with a ridge penalty, by
iteratively reweighted least squares (deterministic, one small solve per step).
Inputs are imputed (with a missing flag), standardised, and clipped to the range seen
in training, so a plan-year row unlike any training row cannot extrapolate to absurd
amounts.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

#: Ratios are clipped to this range before the log (a zero year must not dominate the fit).
RATIO_RANGE = (0.05, 20.0)


class LogRatioHuber(RegressorMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no types
    """Huber regression of ``log(y)`` on standardised, imputed features; predicts ``y``.

    Parameters
    ----------
    alpha : float, default 1.0
        Ridge penalty on the standardised slopes (the intercept is not shrunk).
    epsilon : float, default 1.35
        Huber threshold in robust standard deviations of the residuals.

    Attributes
    ----------
    low_, high_ : ndarray
        Range of each input seen in training (predictions clip to it).
    fill_, flag_, mu_, sd_ : ndarray
        Imputation values, which columns get a missing flag, standardisation.
    coef_ : ndarray
    intercept_ : float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = np.exp(0.5 * X[:, 0])
    >>> model = LogRatioHuber(alpha=1e-6).fit(X, y)
    >>> bool(np.allclose(model.predict(X), y, rtol=1e-3))
    True
    """

    def __init__(self, alpha: float = 1.0, epsilon: float = 1.35):
        self.alpha = alpha
        self.epsilon = epsilon

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        # It models positive ratios (clipped to RATIO_RANGE before the log): a target of
        # arbitrary sign, as the generic checks use, is outside what it is for.
        tags.regressor_tags.poor_score = True
        return tags

    def _design(self, X: np.ndarray) -> np.ndarray:
        X = np.clip(X, self.low_, self.high_)
        missing = np.isnan(X)
        X = np.where(missing, self.fill_, X)
        cols = np.hstack([X, missing[:, self.flag_].astype("float64")])
        return (cols - self.mu_) / self.sd_

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogRatioHuber:
        """Fit on features ``X`` (NaN = missing) and positive-ish targets ``y`` (clipped, then logged).

        Every statistic is weighted, so a weight of 2 is the same as the row twice; the
        ridge penalty is absolute, so pass weights of mean 1 to keep its strength.
        """
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype="float64", y_numeric=True)
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        keep = w > 0
        X, y, w = X[keep], y[keep], w[keep]
        z = np.log(np.clip(y, *RATIO_RANGE))
        empty = np.isnan(X).all(axis=0)
        with np.errstate(all="ignore"):
            self.low_ = np.where(empty, 0.0, np.nanmin(np.where(empty, 0.0, X), axis=0))
            self.high_ = np.where(empty, 0.0, np.nanmax(np.where(empty, 0.0, X), axis=0))
        self.fill_ = np.array([0.0 if empty[j] else _weighted_median(X[:, j], w) for j in range(X.shape[1])])
        self.flag_ = np.isnan(X).any(axis=0) & ~empty
        self.mu_, self.sd_ = np.zeros(1), np.ones(1)
        raw = self._design(X)
        self.mu_ = np.average(raw, axis=0, weights=w)
        sd = np.sqrt(np.average((raw - self.mu_) ** 2, axis=0, weights=w))
        self.sd_ = np.where(sd > 1e-12, sd, 1.0)
        self.coef_, self.intercept_ = _huber(self._design(X), z, w, self.alpha, self.epsilon)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted ``y`` (the exponential of the fitted log)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype="float64")
        return cast("np.ndarray", np.exp(np.clip(self._design(X) @ self.coef_ + self.intercept_, *np.log(RATIO_RANGE))))


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Median of the finite ``values`` under ``weights`` (the lower one at an exact half)."""
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        return 0.0
    order = np.argsort(values[ok], kind="stable")
    v, c = values[ok][order], np.cumsum(weights[ok][order])
    return float(v[np.searchsorted(c, 0.5 * c[-1])])


def _huber(A: np.ndarray, z: np.ndarray, w: np.ndarray, alpha: float, epsilon: float) -> tuple[np.ndarray, float]:
    """Weighted Huber regression with a ridge penalty, by iteratively reweighted least squares."""
    X = np.hstack([np.ones((len(z), 1)), A])
    penalty = alpha * np.eye(X.shape[1])
    penalty[0, 0] = 0.0
    robust = np.ones(len(z))
    beta = np.zeros(X.shape[1])
    for _ in range(50):
        weight = w * robust
        wd = X * weight[:, None]
        beta = np.linalg.solve(X.T @ wd + penalty, wd.T @ z)
        resid = z - X @ beta
        middle = _weighted_median(resid, w)
        scale = 1.4826 * _weighted_median(np.abs(resid - middle), w)
        if scale <= 0:
            break
        u = np.abs(resid) / (epsilon * scale)
        new = np.where(u <= 1.0, 1.0, 1.0 / np.maximum(u, 1e-12))
        if np.max(np.abs(new - robust)) < 1e-6:
            break
        robust = new
    return beta[1:], float(beta[0])
