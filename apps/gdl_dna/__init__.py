"""gdl-dna: reverse-complement-equivariant DNA sequence models (files -> records -> tensors)."""
