"""The DNA DataModule: a labelled file (or the embedded planted-motif set) -> loaders.

``path`` is a TSV/CSV with a ``sequence`` column, a FASTA/FASTQ (with ``labels``, a
table keyed by id) or a BED (with ``genome``). Without ``path`` it generates the
embedded planted-motif data set (real JASPAR motifs, ``gdl_dna.data.planted_motifs``)
in memory, so ``gdl-dna fit --config configs/dna/default.yaml`` needs no data.

The attributes ``label_names``, ``task_kind``, ``class_names``, ``sequence_length`` and
``fixed_window`` are linked to the model's arguments by the CLI; reading them loads the
data once (the file is validated then, so a bad file fails before any training starts).
Items keep their own length: the model pads each batch by its window rule.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from gdl_dna.data.dataset import SequenceDataset, collate_sequences
from gdl_dna.data.labels import LabelSpec, build_targets
from gdl_dna.data.loading import LabelledData, load_labelled, split_records
from gdl_dna.data.planted_motifs import DEFAULT_MOTIFS, generate
from gdl_dna.data.records import SequenceRecord
from gdl_dna.strand_test import StrandDecision, strand_test
from gdl_science.io import UserInputError
from gdl_science.training import GDLDataModule

TaskType = Literal["auto", "binary", "multiclass", "regression"]
SplitMode = Literal["random", "chrom", "column"]


class DNADataModule(GDLDataModule):
    def __init__(
        self,
        path: str | None = None,
        labels: str | None = None,
        genome: str | None = None,
        window: int | Literal["auto"] = "auto",
        task_type: TaskType = "auto",
        label_columns: list[str] | None = None,
        split: SplitMode = "random",
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        val_chroms: list[str] | None = None,
        test_chroms: list[str] | None = None,
        embedded_n: int = 2000,
        embedded_length: int = 200,
        embedded_motifs: list[str] | None = None,
        embedded_background: Literal["iid", "dinuc"] = "iid",
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
        train_fraction: float = 1.0,
        subset_seed: int = 0,
    ) -> None:
        """
        Args:
            path: labelled input (TSV/CSV, FASTA/FASTQ[.gz], BED); None = embedded data.
            labels: label table keyed by ``id`` (FASTA/FASTQ input).
            genome: indexed genome FASTA (BED input).
            window: ``auto`` (default): the longest sequence, nothing cropped, each batch
                padded to its own longest sequence with a mask; or a fixed length every
                sequence is centre-cropped/padded to (RC-safe; a warning counts crops).
            task_type: binary (incl. multi-label), multiclass, regression, or auto.
            label_columns: which label columns to use (default: every column except id,
                sequence, split and the BED field names chrom/start/end/name/score/strand).
            split: random (seeded fractions), chrom (val/test_chroms), column (``split``).
            embedded_*: size, sequence length, JASPAR matrix ids and background of the
                embedded set.
        """
        # train_fraction / subset_seed: a nested share of the training split (the core's).
        super().__init__(path, batch_size, num_workers, seed, train_fraction, subset_seed)
        if window != "auto" and (not isinstance(window, int) or window < 1):
            raise UserInputError(f"data.window must be 'auto' or a positive length, got {window!r}")
        self.labels, self.genome, self.window = labels, genome, window
        self.task_type, self.label_columns = task_type, label_columns
        self.split, self.val_fraction, self.test_fraction = split, val_fraction, test_fraction
        self.val_chroms, self.test_chroms = list(val_chroms or []), list(test_chroms or [])
        self.embedded_n, self.embedded_background = embedded_n, embedded_background
        self.embedded_length = embedded_length
        self.embedded_motifs = embedded_motifs
        self._data: LabelledData | None = None
        self._strand: StrandDecision | None = None
        self.collate_fn = collate_sequences

    # ----- what the CLI links into the model -------------------------------------
    @property
    def loaded(self) -> LabelledData:
        if self._data is None:
            self._data = self._load()
        return self._data

    @property
    def label_names(self) -> list[str]:
        return self.loaded.spec.names

    @property
    def task_kind(self) -> str:
        return self.loaded.spec.kind

    @property
    def class_names(self) -> list[str]:
        return self.loaded.spec.classes

    @property
    def sequence_length(self) -> int:
        """The user's window, or (``auto``) the longest sequence in the data."""
        if self.window != "auto":
            return int(self.window)
        return int(self.sequence_lengths().max())

    @property
    def fixed_window(self) -> bool:
        return self.window != "auto"

    def sequence_lengths(self) -> np.ndarray:
        """(N,) length of every record."""
        return np.array([len(r.sequence) for r in self.loaded.records])

    # ----- loading -----------------------------------------------------------------
    def _load(self) -> LabelledData:
        if self.path is not None:
            return load_labelled(
                self.path, self.labels, self.genome, self.label_columns, self.task_type
            )
        motifs = self.embedded_motifs or list(DEFAULT_MOTIFS)
        names, rows = generate(
            self.embedded_n,
            self.embedded_length,
            motifs,
            background=self.embedded_background,
            seed=self.seed,
        )
        records = [
            SequenceRecord(rid, seq, f"embedded record {i + 1}", dict(zip(names, map(str, y))))
            for i, (rid, seq, y) in enumerate(rows)
        ]
        targets, _ = build_targets(records, names, "binary")
        return LabelledData(records, LabelSpec("binary", names, []), targets)

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        data = self.loaded
        parts = split_records(
            data.records,
            self.split,
            self.val_fraction,
            self.test_fraction,
            self.seed,
            self.val_chroms,
            self.test_chroms,
        )
        for name, idx in zip(("train", "val", "test"), parts):
            seqs = [data.records[i].sequence for i in idx]
            self.datasets[name] = SequenceDataset(seqs, data.targets[np.asarray(idx, dtype=int)])

    def strand_decision(self) -> StrandDecision:
        """The strand test (``gdl_dna.strand_test``) on the training sequences the fit
        uses (the nested ``train_fraction`` too); computed once per data module."""
        if self._strand is None:
            self.setup()
            base = self.datasets["train"]
            subset = self.training_subset(base)  # a Subset, or ``base`` itself
            index = np.asarray(getattr(subset, "indices", range(len(base))), dtype=int)
            sequences = [base.sequences[i] for i in index]
            targets = base.targets.numpy()[index]
            self._strand = strand_test(sequences, targets, self.task_kind, seed=self.seed)
        return self._strand

    def split_sizes(self) -> dict[str, int]:
        self.setup()
        return {k: len(v) for k, v in self.datasets.items()}
