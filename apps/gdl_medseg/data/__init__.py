"""Data: the nnU-Net raw layout, verification, preprocessing, caching and patch sampling."""
