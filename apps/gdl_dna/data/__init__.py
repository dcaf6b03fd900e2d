"""DNA data: readers (TSV/CSV, FASTA/FASTQ, BED + genome), labels, encoding, datasets."""

from gdl_dna.data.alphabet import encode, fit_to_window, reverse_complement
from gdl_dna.data.dataset import SequenceDataset, encode_window
from gdl_dna.data.genome import Genome
from gdl_dna.data.labels import LabelSpec, attach_labels, build_targets, infer_kind
from gdl_dna.data.records import SequenceRecord, file_format, iter_records

__all__ = [
    "Genome",
    "LabelSpec",
    "SequenceDataset",
    "SequenceRecord",
    "attach_labels",
    "build_targets",
    "encode",
    "encode_window",
    "file_format",
    "fit_to_window",
    "infer_kind",
    "iter_records",
    "reverse_complement",
]
