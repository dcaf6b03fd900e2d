"""The nnU-Net raw layout: dataset.json, imagesTr/{case}_{XXXX}{ending}, labelsTr/{case}{ending}.

Reading is where bad input is caught: every error is a ``UserInputError`` naming the
file (and the case), so the CLI prints one line and exits 2.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np

from gdl_science.io import UserInputError


@dataclass(frozen=True)
class DatasetSpec:
    """What dataset.json declares."""

    channel_names: tuple[str, ...]  # modality per channel index, e.g. ("MR",) or ("CT",)
    labels: dict[str, int]  # label name -> integer value; "background" is 0
    file_ending: str = ".nii.gz"

    @property
    def label_names(self) -> list[str]:
        """Names ordered by value: index i is the name of class i."""
        return [name for name, _ in sorted(self.labels.items(), key=lambda kv: kv[1])]

    @property
    def n_classes(self) -> int:
        return len(self.labels)


def read_spec(root: str | Path) -> DatasetSpec:
    path = Path(root) / "dataset.json"
    if not path.is_file():
        raise UserInputError(
            f"{path}: not found; a dataset folder needs dataset.json (nnU-Net layout)"
        )
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserInputError(f"{path}: not valid JSON ({err})") from err
    for key in ("channel_names", "labels"):
        if not isinstance(meta.get(key), dict) or not meta[key]:
            raise UserInputError(f"{path}: '{key}' must be a non-empty object")
    try:
        order = sorted(meta["channel_names"], key=int)
        labels = {str(k): int(v) for k, v in meta["labels"].items()}
    except (TypeError, ValueError) as err:
        raise UserInputError(
            f"{path}: channel keys and label values must be integers ({err})"
        ) from err
    if order != [str(i) for i in range(len(order))]:
        raise UserInputError(f"{path}: channel_names keys must be 0..{len(order) - 1}, got {order}")
    values = sorted(labels.values())
    if values != list(range(len(values))):
        raise UserInputError(f"{path}: label values must be 0..{len(values) - 1}, got {values}")
    ending = meta.get("file_ending", ".nii.gz")
    return DatasetSpec(tuple(str(meta["channel_names"][k]) for k in order), labels, ending)


@dataclass
class Case:
    """One case's files; ``problems`` lists what is wrong with the file set itself."""

    id: str
    images: list[Path | None]  # one per channel, None where missing
    label: Path | None = None
    problems: list[str] = field(default_factory=list)


def discover_cases(
    folder: str | Path, n_channels: int, ending: str = ".nii.gz", labels_folder: Path | None = None
) -> list[Case]:
    """Group ``{case}_{XXXX}{ending}`` files of a folder into cases (sorted by id)."""
    folder = Path(folder)
    pattern = re.compile(rf"^(?P<case>.+)_(?P<channel>\d{{4}}){re.escape(ending)}$")
    found: dict[str, dict[int, Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        m = pattern.match(path.name)
        if m:
            found.setdefault(m["case"], {})[int(m["channel"])] = path
    cases = []
    for case_id in sorted(found):
        channels = found[case_id]
        case = Case(case_id, [channels.get(i) for i in range(n_channels)])
        missing = [f"{case_id}_{i:04d}{ending}" for i in range(n_channels) if i not in channels]
        if missing:
            case.problems.append(f"missing channel file(s) {', '.join(missing)} in {folder}")
        extra = sorted(i for i in channels if i >= n_channels)
        if extra:
            case.problems.append(
                f"unexpected channel(s) {extra}: dataset.json declares {n_channels}"
            )
        if labels_folder is not None:
            label = labels_folder / f"{case_id}{ending}"
            if label.is_file():
                case.label = label
            else:
                case.problems.append(f"label file {label} is missing")
        cases.append(case)
    return cases


def training_cases(root: str | Path, spec: DatasetSpec) -> list[Case]:
    root = Path(root)
    images = root / "imagesTr"
    if not images.is_dir():
        raise UserInputError(
            f"{images}: not found; expected the nnU-Net layout (imagesTr, labelsTr)"
        )
    cases = discover_cases(images, len(spec.channel_names), spec.file_ending, root / "labelsTr")
    if not cases:
        raise UserInputError(f"{images}: no files named {{case}}_0000{spec.file_ending}")
    return cases


@dataclass
class Volume:
    """A loaded 3D volume: data in stored voxel order, with its geometry."""

    data: np.ndarray  # (X, Y, Z)
    affine: np.ndarray  # (4, 4) voxel -> world (mm)
    header: nib.Nifti1Header

    @property
    def spacing(self) -> tuple[float, float, float]:
        return tuple(float(v) for v in np.sqrt((self.affine[:3, :3] ** 2).sum(0)))


def load_volume(path: str | Path, case_id: str = "", dtype: type = np.float32) -> Volume:
    """Load a 3D NIfTI; corrupt, truncated or 4D files become a one-line UserInputError."""
    path = Path(path)
    where = f"{path} (case {case_id})" if case_id else str(path)
    try:
        img = nib.load(str(path))
        data = np.asarray(img.dataobj, dtype=dtype)
    except Exception as err:  # nibabel raises many types for corrupt/truncated files
        reason = " ".join(str(err).split()) or type(err).__name__
        raise UserInputError(f"{where}: cannot read NIfTI ({reason[:200]})") from err
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise UserInputError(
            f"{where}: expected a 3D image, got shape {data.shape} "
            "(put each channel in its own {case}_{XXXX} file)"
        )
    affine = np.asarray(img.affine, dtype=np.float64)
    check_affine(affine, where)
    return Volume(data, affine, img.header.copy())


def check_affine(affine: np.ndarray, where: str) -> None:
    """Refuse a voxel-to-world matrix that has no orientation (NaN, or singular: e.g. an
    all-zero sform), which reorientation to RAS and the spacing cannot be read from."""
    linear = affine[:3, :3]
    if not np.isfinite(affine).all():
        raise UserInputError(f"{where}: affine has NaN or infinite entries")
    spacing = np.sqrt((linear**2).sum(0))
    if spacing.min() <= 0 or abs(np.linalg.det(linear)) <= 1e-6 * float(np.prod(spacing)):
        raise UserInputError(
            f"{where}: singular affine (voxel axes {linear.round(4).tolist()}): "
            "the image has no orientation; fix its qform/sform"
        )
