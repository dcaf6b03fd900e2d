"""gdl-medseg: octahedral-equivariant 3D segmentation of NIfTI data in the nnU-Net layout."""
