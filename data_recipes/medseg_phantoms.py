"""Synthetic 3D phantoms in the nnU-Net raw layout (gdl-medseg's embedded default data).

The generator lives in the app (``gdl_medseg.data.phantoms``, so the app never imports
``data_recipes``); this recipe is its command line:

    python -m data_recipes.medseg_phantoms OUT_DIR [--cases 12] [--size 48] [--pose random]
"""

from __future__ import annotations

from gdl_medseg.data.phantoms import LABELS, PhantomConfig, main, make_case, write_dataset

__all__ = ["LABELS", "PhantomConfig", "main", "make_case", "write_dataset"]

if __name__ == "__main__":
    main()
