"""gdl-molprop: SMILES or SDF -> conformers -> E(3)-invariant property models."""
