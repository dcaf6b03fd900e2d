"""Parity plots and ROC curves: they decode as PNG, and the ROC maths is right."""

from __future__ import annotations

import math

import numpy as np
from gdl_molprop.plots import parity_plot, pearson, roc_curve, roc_plot

from .test_cli import assert_png


def test_roc_curve_auc_matches_pair_counting():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200).astype(float)
    p = np.round(rng.random(200) + 0.4 * y, 1)  # ties included
    fpr, tpr, auc = roc_curve(y, p)
    pos, neg = p[y == 1], p[y == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert math.isclose(auc, pairs, rel_tol=1e-9)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1


def test_plots_with_missing_values_decode(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.normal(size=(50, 3))
    y[::4, 1] = np.nan  # missing targets
    p = y + 0.1 * rng.normal(size=y.shape)
    assert pearson(y[:, 0], p[:, 0]) > 0.9
    assert_png(parity_plot(y, p, ["a", "b", "c"], tmp_path / "parity.png"))
    labels = (y > 0).astype(float)
    labels[np.isnan(y)] = np.nan
    labels[:, 2] = 1.0  # one class only: an empty panel, no crash
    assert_png(roc_plot(labels, 1 / (1 + np.exp(-p)), ["a", "b", "c"], tmp_path / "roc.png"))
