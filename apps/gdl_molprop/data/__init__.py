"""Molecule input: readers, RDKit preparation with statuses, cache, graphs, splits."""
