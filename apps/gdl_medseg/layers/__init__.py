"""Networks: the equivariant escnn U-Net, its plain twin, and export to plain PyTorch."""
