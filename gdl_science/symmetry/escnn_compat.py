"""The single place where the suite imports escnn and fixes what breaks it.

escnn 1.0.11 (group/_numerical.py) uses scikit-learn's ``randomized_svd`` whenever
scikit-learn is importable, and current scikit-learn rejects the ``np.matrix`` escnn
passes (``TypeError: np.matrix is not supported``) while building the octahedral kernel
basis (DESIGN.md section 7). escnn falls back to scipy's exact SVD when
``randomized_svd`` is None, so we set it to None. escnn also caches group data with
joblib at verbosity 2, which prints a "[Memory] Loading ..." line per irrep on every
model build; we silence those caches. Import escnn through ``import_escnn``.
"""

from __future__ import annotations

from types import ModuleType


def neutralise_sklearn_path() -> None:
    """Make escnn's null-space computation use scipy, never scikit-learn."""
    from escnn.group import _numerical

    _numerical.randomized_svd = None


def quiet_group_caches() -> None:
    """Turn off the joblib cache messages of escnn's finite-group constructions."""
    from escnn.group.groups import ico, octa
    from joblib.memory import MemorizedFunc

    for module in (octa, ico):
        module.cache.verbose = 0
        for value in vars(module).values():
            if isinstance(value, MemorizedFunc):
                value._verbose = 0


def import_escnn() -> ModuleType:
    """Import escnn with the compatibility fixes applied; returns the escnn package."""
    import escnn

    neutralise_sklearn_path()
    quiet_group_caches()
    return escnn
