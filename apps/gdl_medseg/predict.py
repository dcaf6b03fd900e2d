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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F

from gdl_medseg.data.layout import Volume, load_volume
from gdl_medseg.data.preprocess import Plan, from_ras, preprocess_image
from gdl_medseg.model.sizes import valid_size
from gdl_science.io import (
    ErrorReport,
    Record,
    UserInputError,
    atomic_path,
    check_output_path,
    load_task,
    resolve_device,
    run_predictions,
)

NIFTI = re.compile(r"^(?P<case>.+?)(?:_(?P<channel>\d{4}))?\.nii(?:\.gz)?$")


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overlap", type=float, default=0.5, help="sliding-window overlap in [0, 1) (default 0.5)"
    )
    parser.add_argument(
        "--save-probabilities",
        action="store_true",
        help="also write {case}_probabilities.nii.gz (X, Y, Z, K) float32",
    )
    parser.add_argument(
        "--window-batch", type=int, default=4, help="windows per forward pass (default 4)"
    )


def gaussian_importance(size: int, sigma_scale: float = 1 / 8) -> torch.Tensor:
    """(P, P, P) weights peaking at the window centre, so window borders count less."""
    axis = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(axis**2) / (2 * (size * sigma_scale) ** 2))
    w = g[:, None, None] * g[None, :, None] * g[None, None, :]
    w = w / w.max()
    # Window corners get ~1e-9: floor them so every voxel's weights sum to a usable norm.
    return w.clamp(min=1e-4).float()


def window_starts(n: int, size: int, overlap: float) -> list[int]:
    """Start offsets covering [0, n) with windows of ``size`` stepping size*(1-overlap)."""
    if n <= size:
        return [0]
    step = max(1, int(size * (1 - overlap)))
    count = int(np.ceil((n - size) / step)) + 1
    return sorted({int(np.rint(v)) for v in np.linspace(0, n - size, count)})


@torch.no_grad()
def sliding_window(
    nets: Sequence[torch.nn.Module],
    image: np.ndarray,
    size: int,
    n_classes: int,
    overlap: float = 0.5,
    window_batch: int = 4,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """image (C, X, Y, Z) -> class probabilities (K, X, Y, Z), averaged over ``nets``."""
    spatial = np.array(image.shape[1:])
    padded_shape = np.maximum(spatial, size)
    before = (padded_shape - spatial) // 2
    x = np.zeros((image.shape[0], *padded_shape), dtype=np.float32)
    x[(slice(None), *(slice(b, b + n) for b, n in zip(before, spatial)))] = image
    weight = gaussian_importance(size)
    probs = torch.zeros((n_classes, *padded_shape), dtype=torch.float32)
    norm = torch.zeros(tuple(padded_shape), dtype=torch.float32)
    starts = [window_starts(int(n), size, overlap) for n in padded_shape]
    corners = [(a, b, c) for a in starts[0] for b in starts[1] for c in starts[2]]
    for i in range(0, len(corners), window_batch):
        chunk = corners[i : i + window_batch]
        batch = torch.from_numpy(
            np.stack([x[:, a : a + size, b : b + size, c : c + size] for a, b, c in chunk])
        ).to(device)
        p = torch.stack([net(batch).softmax(1) for net in nets]).mean(0).float().cpu()
        for (a, b, c), pw in zip(chunk, p):
            probs[:, a : a + size, b : b + size, c : c + size] += pw * weight
            norm[a : a + size, b : b + size, c : c + size] += weight
    probs /= norm
    crop = tuple(slice(b, b + n) for b, n in zip(before, spatial))
    return probs[(slice(None), *crop)].numpy()


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
    return files


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
        if missing:
            names = [f"{case}_{i:04d}" for i in missing]
            yield Record(case, error=f"{input_path}: case {case} lacks channel file(s) {names}")
        else:
            yield Record(case, [channels[i] for i in range(n_channels)])


def load_and_preprocess(
    files: Sequence[str | Path], plan_hparams: dict[str, Any]
) -> tuple[np.ndarray, Volume, tuple[int, int, int]]:
    """Channel files -> (preprocessed image (C, X', Y', Z'), first channel Volume, RAS shape)."""
    plan = Plan.from_hparams(plan_hparams)
    volumes = [load_volume(p) for p in files]
    ref = volumes[0]
    for path, vol in zip(files[1:], volumes[1:]):
        if vol.data.shape != ref.data.shape or not np.allclose(vol.affine, ref.affine, atol=1e-3):
            raise UserInputError(f"{path}: shape or affine differs from {files[0]}")
    for path, vol in zip(files, volumes):
        if not np.isfinite(vol.data).all():
            raise UserInputError(f"{path}: contains NaN or infinite intensities")
    image, ras_shape, _ = preprocess_image(volumes, plan)
    return image, ref, ras_shape


def to_original_geometry(probs: np.ndarray, ras_shape: tuple[int, ...], ref: Volume) -> np.ndarray:
    """(K, X', Y', Z') probabilities on the plan's grid -> (K, X, Y, Z) in stored voxel order."""
    t = torch.from_numpy(probs)[None]
    if tuple(probs.shape[1:]) != tuple(ras_shape):
        t = F.interpolate(t, size=tuple(ras_shape), mode="trilinear", align_corners=False)
    ras = t[0].numpy()
    return np.stack([from_ras(p, ref.affine) for p in ras])


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
    inputs = [input_path] if input_path.is_file() else [input_path, *input_path.iterdir()]
    check_output_path(output, inputs)
    if output.exists() and not output.is_dir():
        raise UserInputError(f"{output}: exists and is not a folder")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"{output}: cannot create the output folder ({err.strerror})") from err
    from gdl_medseg.task import MedSegTask

    device = resolve_device(args.device)
    tasks = [load_task(MedSegTask, c) for c in args.checkpoint]
    first = tasks[0]
    for path, task in zip(args.checkpoint[1:], tasks[1:]):
        if (
            task.hparams.n_classes != first.hparams.n_classes
            or task.plan_hparams != first.plan_hparams
        ):
            raise UserInputError(
                f"{path}: classes or preprocessing differ from {args.checkpoint[0]}"
            )
    plan = first.plan_hparams
    n_channels, n_classes = int(first.hparams.in_channels), int(first.hparams.n_classes)
    nets = [t.net.export() if hasattr(t.net, "export") else t.net for t in tasks]
    nets = [n.to(device).eval() for n in nets]
    size = valid_size(int(first.hparams.patch_size), first.levels)

    errors = ErrorReport(output)
    input_files = {p.resolve() for p in inputs if p.is_file()}

    def predict_case(files: list[Path]) -> str:
        image, ref, ras_shape = load_and_preprocess(files, plan)
        probs = sliding_window(
            nets, image, size, n_classes, args.overlap, args.window_batch, device
        )
        original = to_original_geometry(probs, ras_shape, ref)
        m = NIFTI.match(files[0].name)
        case = m["case"] if m else files[0].stem
        target = output / f"{case}.nii.gz"
        if target.resolve() in input_files:
            raise UserInputError(f"{target}: would overwrite an input image")
        write_nifti(target, original.argmax(0), ref, np.uint8)
        if args.save_probabilities:
            write_nifti(
                output / f"{case}_probabilities.nii.gz",
                np.moveaxis(original, 0, -1),
                ref,
                np.float32,
            )
        return str(target)

    def on_result(record: Record, result: str) -> None:
        print(f"{record.id}\t{result}")

    records = list(discover_inputs(input_path, n_channels))
    exit_code = _run(records, predict_case, on_result, errors)
    errors.write()
    return exit_code


def _run(records: list[Record], predict_case, on_result, errors: ErrorReport) -> int:
    """run_predictions with one case per batch; a UserInputError marks only that case bad.

    (The core loop re-raises a UserInputError from a batch of one record, so the error is
    caught here and turned into a result the sink reports.)
    """

    def safe(payloads: Sequence[list[Path]]) -> list[Any]:
        try:
            return [predict_case(files) for files in payloads]
        except UserInputError as err:
            return [err]

    def sink(record: Record, result: Any) -> None:
        if isinstance(result, UserInputError):
            errors.add(record.id, str(result))
            sink.bad += 1
        else:
            on_result(record, result)

    sink.bad = 0  # type: ignore[attr-defined]
    summary = run_predictions(records, safe, sink, batch_size=1, errors=errors, desc="predict")
    n_ok = summary.n_ok - sink.bad  # type: ignore[attr-defined]
    return 0 if n_ok > 0 else 2
