"""gdl-science core: the geometric deep learning blueprint shared by every app.

- ``gdl_science.symmetry``: groups, their actions on tensors, ``check_equivariance``.
- ``gdl_science.blueprint``: the four stage kinds, invariant poolings, heads.
- ``gdl_science.graphs``: batched graphs and scatter reductions.
- ``gdl_science.training``: the base task and data module, the symmetry modes.
- ``gdl_science.cli``: the shared command line.
- ``gdl_science.io``: atomic outputs, error reports, safe checkpoints, streaming predict.

The core knows nothing about NIfTI, FASTA or SMILES: that lives in the apps.
"""

__version__ = "0.1.0"
