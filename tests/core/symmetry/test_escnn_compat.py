"""scikit-learn next to escnn must not break kernel-basis construction (DESIGN.md 7)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from gdl_science.symmetry.escnn_compat import import_escnn


def test_null_space_never_goes_through_sklearn(monkeypatch):
    escnn = import_escnn()
    from escnn.group import _numerical

    def broken_randomized_svd(*args, **kwargs):
        raise TypeError("np.matrix is not supported")  # what current scikit-learn does

    # Simulate scikit-learn being importable, as when a user installs it beside us.
    monkeypatch.setattr(_numerical, "randomized_svd", broken_randomized_svd)
    import_escnn()  # the single place that applies the fix
    assert _numerical.randomized_svd is None
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 3)) @ rng.normal(size=(3, 6))  # 6x6 of rank 3
    basis = _numerical.null(np.asmatrix(a), use_sparse=False, eps=1e-9)
    assert basis.shape == (6, 3)
    assert np.abs(a @ basis).max() < 1e-10
    assert hasattr(escnn, "nn")  # import_escnn hands back the real package


def test_model_builds_print_no_joblib_cache_lines():
    build = (
        "from escnn import gspaces, nn; g = gspaces.octaOnR3(); "
        "nn.FieldType(g, [g.regular_repr] * 2)"
    )
    raw = subprocess.run([sys.executable, "-c", build], capture_output=True, text=True)
    assert "[Memory]" in raw.stdout + raw.stderr  # escnn alone is noisy: the test can fail
    fixed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gdl_science.symmetry.escnn_compat import import_escnn; import_escnn(); " + build,
        ],
        capture_output=True,
        text=True,
    )
    assert fixed.returncode == 0, fixed.stderr
    assert "[Memory]" not in fixed.stdout + fixed.stderr
