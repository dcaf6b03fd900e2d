"""The cross-validation summary: mean ± sample sd per metric."""

from __future__ import annotations

import pytest
from gdl_molprop.crossval import markdown_table, summarise


def test_summarise_mean_and_sample_sd():
    s = summarise([{"rmse": 1.0, "mae": 0.5}, {"rmse": 3.0, "mae": 0.5}])
    assert s["rmse"] == (2.0, pytest.approx(2**0.5)) and s["mae"] == (0.5, 0.0)
    assert summarise([{"rmse": 1.0}])["rmse"] == (1.0, 0.0)
    table = markdown_table(s, 2, 2)
    assert "| rmse | 2.0000 ± 1.4142 |" in table
