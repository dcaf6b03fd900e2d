"""``gdl-medseg predict``: sliding-window inference written back in the input's geometry.

Per case: load channels -> the checkpoint's preprocessing (RAS, spacing, normalisation)
-> Gaussian-weighted sliding window (nnU-Net: sigma = patch/8, overlap 0.5) -> mean of
the softmax over checkpoints -> resample back to the RAS grid -> undo the reorientation
-> ``{case}.nii.gz`` with the input's shape, affine and header (uint8 labels), written
atomically. Optional ``--save-probabilities`` writes ``{case}_probabilities.nii.gz``
(X, Y, Z, K) float32 in the same geometry. Memory per case is bounded by one volume of
K class probabilities; the model sees one window batch at a time.

Inputs: a folder of ``{case}_{XXXX}.nii.gz`` files (or ``{case}.nii.gz`` for one
channel), or one such file. Bad cases go to ``<output>.errors.tsv`` and the rest
continue.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F

from gdl_medseg.data.layout import Volume
from gdl_medseg.data.preprocess import (
    Plan,
    background_mask,
    from_ras,
    load_channels,
    preprocess_image,
)
from gdl_medseg.layers.sliding_window import WHOLE_CASE_GROWTH, sliding_window
from gdl_medseg.postprocess import apply_lcc
from gdl_medseg.task import MedSegTask
from gdl_medseg.tta import describe as describe_tta
from gdl_medseg.tta import task_flips
from gdl_science.io import (
    ErrorReport,
    Record,
    UserInputError,
    atomic_path,
    check_output_path,
    load_ensemble,
    resolve_device,
    run_predictions,
)

NIFTI = re.compile(r"^(?P<case>.+?)(?:_(?P<channel>\d{4}))?\.nii(?:\.gz)?$")


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overlap",
        type=float,
        default=0.5,
        help="sliding-window overlap in [0, 1) (default 0.5, nnU-Net's); 0 runs ~8x fewer "
        "windows on large volumes, at some cost in accuracy at window borders",
    )
    parser.add_argument(
        "--background-below",
        type=float,
        default=None,
        metavar="VALUE",
        help="skip windows whose every voxel is below VALUE (raw intensity, all channels; "
        "e.g. -500 for air in CT) and predict them background; off by default, since it "
        "changes the output wherever the network would find foreground there",
    )
    parser.add_argument(
        "--save-probabilities",
        action="store_true",
        help="also write {case}_probabilities.nii.gz (X, Y, Z, K) float32",
    )
    parser.add_argument(
        "--tta",
        choices=["auto", "all", "off"],
        default="auto",
        help="test-time mirroring over the plan's mirror axes (nnU-Net mirrors by default): "
        "auto (default) skips the flips the network is exactly equivariant to (the "
        "mirror-equivariant net needs none: 1 pass), all runs every flip, off one pass",
    )
    parser.add_argument(
        "--window-batch", type=int, default=4, help="windows per forward pass (default 4)"
    )
    parser.add_argument(
        "--max-window-growth",
        type=float,
        default=WHOLE_CASE_GROWTH,
        help="one window over the whole case when it has at most this many times the "
        f"patch's voxels (default {WHOLE_CASE_GROWTH}; 0: always the patch-sized sliding window)",
    )


def case_channel_files(path: Path, n_channels: int) -> list[Path]:
    """The channel files of the case that ``path`` (any of its channel files) belongs to."""
    m = NIFTI.match(path.name)
    if not m:
        raise UserInputError(f"{path}: not a .nii or .nii.gz file")
    if m["channel"] is None:
        if n_channels != 1:
            raise UserInputError(f"{path}: the model needs {n_channels} channels ({{case}}_XXXX)")
        return [path]
    ending = path.name[len(m["case"]) + 5 :]
    files = [path.with_name(f"{m['case']}_{i:04d}{ending}") for i in range(n_channels)]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise UserInputError(f"{path.parent}: case {m['case']} lacks channel file(s) {missing}")
    extra = path.with_name(f"{m['case']}_{n_channels:04d}{ending}")
    if extra.is_file():
        raise UserInputError(channel_mismatch(m["case"], extra.name, n_channels))
    return files


def channel_mismatch(case: str, extra: str, n_channels: int) -> str:
    return (
        f"case {case} has channel file {extra} but the model takes {n_channels} "
        "channel(s): predicting with fewer channels than the case has would ignore one"
    )


def discover_inputs(input_path: Path, n_channels: int) -> Iterator[Record]:
    """Records (case id -> channel files) of a folder or a single file; bad cases carry an error."""
    if input_path.is_file():
        m = NIFTI.match(input_path.name)
        case = m["case"] if m else input_path.name
        try:
            yield Record(case, case_channel_files(input_path, n_channels))
        except UserInputError as err:
            yield Record(case, error=str(err))
        return
    if not input_path.is_dir():
        raise UserInputError(f"{input_path}: no such file or folder")
    grouped: dict[str, dict[int, Path]] = {}
    for path in sorted(input_path.iterdir()):
        m = NIFTI.match(path.name)
        if m and not path.name.startswith("."):
            channel = int(m["channel"]) if m["channel"] is not None else 0
            grouped.setdefault(m["case"], {})[channel] = path
    if not grouped:
        raise UserInputError(f"{input_path}: no .nii/.nii.gz images found")
    for case, channels in grouped.items():
        missing = [i for i in range(n_channels) if i not in channels]
        extra = sorted(i for i in channels if i >= n_channels)
        if missing:
            names = [f"{case}_{i:04d}" for i in missing]
            yield Record(case, error=f"{input_path}: case {case} lacks channel file(s) {names}")
        elif extra:
            name = channels[extra[0]].name
            yield Record(case, error=f"{input_path}: {channel_mismatch(case, name, n_channels)}")
        else:
            yield Record(case, [channels[i] for i in range(n_channels)])


def to_original_geometry(probs: np.ndarray, ras_shape: tuple[int, ...], ref: Volume) -> np.ndarray:
    """(K, X', Y', Z') probabilities on the plan's grid -> (K, X, Y, Z) in stored voxel order."""
    ras = on_ras_grid(probs, ras_shape)
    return np.stack([from_ras(p, ref.affine) for p in ras])


def on_ras_grid(probs: np.ndarray, ras_shape: tuple[int, ...]) -> np.ndarray:
    """(K, X', Y', Z') on the plan's grid -> (K, *ras_shape), trilinear (a no-op if equal)."""
    if tuple(probs.shape[1:]) == tuple(ras_shape):
        return probs
    t = torch.from_numpy(probs)[None]
    return F.interpolate(t, size=tuple(ras_shape), mode="trilinear", align_corners=False)[0].numpy()


def label_map(probs: np.ndarray, slab: int = 16) -> np.ndarray:
    """(K, X, Y, Z) -> uint8 argmax (X, Y, Z), a slab at a time (a whole-volume argmax
    would hold an int64 volume: 8 bytes per voxel)."""
    out = np.empty(probs.shape[1:], dtype=np.uint8)
    for i in range(0, probs.shape[1], slab):
        out[i : i + slab] = probs[:, i : i + slab].argmax(0)
    return out


def write_nifti(path: Path, data: np.ndarray, ref: Volume, dtype: type) -> None:
    header = ref.header.copy()
    header.set_data_dtype(dtype)
    img = nib.Nifti1Image(data.astype(dtype), ref.affine, header)
    img.set_qform(ref.header.get_qform(), code=int(ref.header["qform_code"]))
    img.set_sform(ref.header.get_sform(), code=int(ref.header["sform_code"]))
    with atomic_path(path) as tmp:
        nib.save(img, str(tmp))


def predict_command(args: argparse.Namespace) -> int:
    input_path = Path(args.input)
    output = Path(args.output)
    if not input_path.exists():
        raise UserInputError(f"{input_path}: no such file or folder")
    if not 0 <= args.overlap < 1:
        raise UserInputError(f"--overlap {args.overlap}: must be in [0, 1)")
    if args.window_batch < 1:
        raise UserInputError(f"--window-batch {args.window_batch}: must be >= 1")
    inputs = [input_path] if input_path.is_file() else [input_path, *input_path.iterdir()]
    check_output_path(output, inputs)
    if output.exists() and not output.is_dir():
        raise UserInputError(f"{output}: exists and is not a folder")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"{output}: cannot create the output folder ({err.strerror})") from err

    device = resolve_device(args.device)
    tasks = load_ensemble(
        MedSegTask,
        args.checkpoint,
        device,
        signature=lambda t: (int(t.hparams.n_classes), repr(t.plan_hparams)),
        describe=lambda t: f"{t.hparams.n_classes} classes with plan {t.plan_hparams}",
    )
    first = tasks[0]
    plan = first.plan_hparams
    n_channels, n_classes = int(first.hparams.in_channels), int(first.hparams.n_classes)
    nets = [t.net.export() if hasattr(t.net, "export") else t.net for t in tasks]
    nets = [n.to(device).eval() for n in nets]
    # An ensemble post-processes as its first member decided (the decisions agree when
    # the members share data and recipe; a per-member vote would need the val cases).
    lcc_labels = list(first.hparams.get("lcc_labels") or [])
    flips = task_flips(first, args.tta)
    seconds: list[float] = []
    input_files = {p.resolve() for p in inputs if p.is_file()}

    def predict_case(files: list[Path]) -> str:
        m = NIFTI.match(files[0].name)
        case = m["case"] if m else files[0].stem
        target = output / f"{case}.nii.gz"
        if target.resolve() in input_files:
            raise UserInputError(f"{target}: would overwrite an input image")
        start = time.perf_counter()
        channels = load_channels(files)
        ref = channels[0]
        image, ras_shape, _ = preprocess_image(channels, Plan.from_hparams(plan))
        background = None
        if args.background_below is not None:
            background = background_mask(channels, args.background_below, image.shape[1:])
        del channels  # the raw intensities are no longer needed (ref keeps channel 0)
        window = first.window_for(image.shape[1:], args.max_window_growth)
        probs = sliding_window(
            nets, image, window, n_classes, args.overlap, args.window_batch, device,
            background=background, desc=case, flips=flips,
        )
        del image
        ras = on_ras_grid(probs, ras_shape)
        # Reorientation is a permutation of voxels, so the argmax commutes with it: undo
        # it on the uint8 label map, not on K float volumes.
        labels = from_ras(label_map(ras), ref.affine)
        labels = apply_lcc(labels, lcc_labels) if lcc_labels else labels
        write_nifti(target, labels, ref, np.uint8)
        if args.save_probabilities:
            original = np.stack([from_ras(p, ref.affine) for p in ras])
            write_nifti(
                output / f"{case}_probabilities.nii.gz",
                np.moveaxis(original, 0, -1),
                ref,
                np.float32,
            )
        seconds.append(time.perf_counter() - start)
        return str(target)

    def on_result(record: Record, result: str) -> None:
        print(f"{record.id}\t{result}")

    errors = ErrorReport(output)
    summary = run_predictions(
        discover_inputs(input_path, n_channels),
        lambda payloads: [predict_case(files) for files in payloads],
        on_result,
        batch_size=1,
        errors=errors,
        desc="predict",
    )
    errors.write()
    if seconds:  # load + preprocess + network + write, per case (no start-up)
        print(
            f"gdl-medseg predict: {len(seconds)} case(s), {np.mean(seconds):.3f} s per case; "
            f"test-time mirroring {describe_tta(flips, args.tta)}",
            file=sys.stderr,
            flush=True,
        )
    return summary.exit_code
