"""The robust linear part of the capacity model, as plain arrays (skops-friendly).

Bookings are roughly multiplicative in skill, book and market, i.e. linear on log
scales, where trees only approximate by steps; :class:`~quotaopt.capacity_model.CapacityModel`
blends this linear model with its boosted trees.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def design(params: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """Scale-free design matrix: asinh(x / median |x|), imputed, flagged, standardised."""
    t = np.arcsinh(X / params["scale"])
    missing = np.isnan(t)
    t = np.where(missing, params["fill"], t)
    cols = np.hstack([t, missing[:, params["flag"]].astype("float64")])
    return (cols - params["mu"]) / params["sd"]


def huber(A: np.ndarray, z: np.ndarray, alpha: float = 1.0, epsilon: float = 1.35) -> tuple[np.ndarray, float]:
    """Huber regression by iteratively reweighted least squares (a ridge penalty on the slopes).

    Deterministic and ~50x faster than a generic optimiser at 20,000 rows: each step
    is one small normal-equation solve.

    Returns
    -------
    coef : ndarray
    intercept : float
    """
    X = np.hstack([np.ones((len(z), 1)), A])
    penalty = alpha * np.eye(X.shape[1])
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    weights = np.ones(len(z))
    beta = np.zeros(X.shape[1])
    for _ in range(50):
        wd = X * weights[:, None]
        beta = np.linalg.solve(X.T @ wd + penalty, wd.T @ z)
        resid = z - X @ beta
        scale = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        if scale <= 0:
            break
        u = np.abs(resid) / (epsilon * scale)
        new = np.where(u <= 1.0, 1.0, 1.0 / np.maximum(u, 1e-12))
        if np.max(np.abs(new - weights)) < 1e-6:
            break
        weights = new
    return beta[1:], float(beta[0])


def linear_fit(X: np.ndarray, z: np.ndarray) -> dict[str, Any]:
    """Fit the robust linear model of ``z`` on the features ``X`` (NaN = missing).

    Returns
    -------
    dict
        Arrays ``scale, fill, flag, mu, sd, coef`` and the float ``intercept``.
    """
    scale = np.nanmedian(np.abs(np.where(np.isnan(X).all(axis=0), 1.0, X)), axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    t = np.arcsinh(X / scale)
    with np.errstate(all="ignore"):
        fill = np.where(np.isnan(t).all(axis=0), 0.0, np.nanmean(np.where(np.isnan(t).all(axis=0), 0.0, t), axis=0))
    params: dict[str, Any] = {"scale": scale, "fill": fill, "flag": np.isnan(t).any(axis=0)}
    params["mu"], params["sd"] = np.zeros(1), np.ones(1)
    raw = design(params, X)
    params["mu"], sd = raw.mean(axis=0), raw.std(axis=0)
    params["sd"] = np.where(sd > 0, sd, 1.0)
    params["coef"], params["intercept"] = huber(design(params, X), z)
    return params


def linear_predict(params: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """Predictions of a :func:`linear_fit` model."""
    return design(params, X) @ params["coef"] + params["intercept"]
