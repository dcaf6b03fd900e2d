"""``gdl-medseg verify DATASET``: check every case before anything trains on it.

Per case: all channels present; channels and label agree in shape and affine; label
values are integers declared in dataset.json; the foreground is not empty; no NaN or
infinite intensities. The report gives each case's shape, spacing and orientation.
``fit`` runs the same checks first and stops on the first bad case (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np

from gdl_medseg.data.layout import Case, DatasetSpec, load_volume, read_spec, training_cases
from gdl_science.io import UserInputError, progress

AFFINE_TOLERANCE_MM = 1e-3


@dataclass
class CaseReport:
    id: str
    shape: tuple[int, ...] = ()
    spacing: tuple[float, ...] = ()
    orientation: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        geometry = (
            f"shape={'x'.join(map(str, self.shape))} "
            f"spacing={'x'.join(f'{s:.3g}' for s in self.spacing)}mm orientation={self.orientation}"
            if self.shape
            else ""
        )
        status = "OK" if self.ok else "ERROR " + "; ".join(self.problems)
        return f"{self.id}\t{geometry}\t{status}"


def check_case(case: Case, spec: DatasetSpec, require_label: bool = True) -> CaseReport:
    report = CaseReport(case.id, problems=list(case.problems))
    if report.problems:
        return report
    reference = None
    for path in [*case.images, case.label] if require_label else case.images:
        if path is None:
            continue
        is_label = path == case.label
        try:
            vol = load_volume(path, case.id, np.float64 if is_label else np.float32)
        except UserInputError as err:
            report.problems.append(str(err))
            continue
        if reference is None:
            reference = vol
            report.shape = vol.data.shape
            report.spacing = vol.spacing
            report.orientation = "".join(nib.aff2axcodes(vol.affine))
        else:
            if vol.data.shape != reference.data.shape:
                report.problems.append(
                    f"{path}: shape {vol.data.shape} differs from "
                    f"{case.images[0]} {reference.data.shape}"
                )
            elif not np.allclose(vol.affine, reference.affine, atol=AFFINE_TOLERANCE_MM):
                report.problems.append(f"{path}: affine differs from {case.images[0]}'s")
        if is_label:
            report.problems += _label_problems(path, vol.data, spec)
        elif not np.isfinite(vol.data).all():
            report.problems.append(f"{path}: {int((~np.isfinite(vol.data)).sum())} NaN/inf voxels")
    return report


def _label_problems(path: Path, data: np.ndarray, spec: DatasetSpec) -> list[str]:
    if not np.isfinite(data).all() or not np.array_equal(data, np.round(data)):
        return [f"{path}: label values are not integers"]
    values = set(np.unique(data).astype(int).tolist())
    undeclared = sorted(values - set(spec.labels.values()))
    if undeclared:
        return [f"{path}: label values {undeclared} are not declared in dataset.json"]
    if values <= {0}:
        return [f"{path}: empty foreground (every voxel is background)"]
    return []


def verify_dataset(
    root: str | Path, show_progress: bool = True
) -> tuple[DatasetSpec, list[CaseReport]]:
    spec = read_spec(root)
    cases = training_cases(root, spec)
    iterable: Iterable[Case] = (
        progress(cases, total=len(cases), desc="verify", unit="case") if show_progress else cases
    )
    return spec, [check_case(case, spec) for case in iterable]


def format_report(spec: DatasetSpec, reports: list[CaseReport]) -> str:
    lines = [r.line() for r in reports]
    good = [r for r in reports if r.ok]
    if good:
        spacings = np.array([r.spacing for r in good])
        median = np.median(spacings, axis=0)
        lines.append(
            f"median spacing {'x'.join(f'{s:.3g}' for s in median)} mm; "
            f"anisotropy {median.max() / median.min():.2f}"
        )
    lines.append(
        f"{len(good)}/{len(reports)} cases OK; channels {list(spec.channel_names)}; "
        f"labels {spec.labels}"
    )
    return "\n".join(lines)


def first_problem(reports: list[CaseReport]) -> str | None:
    bad = [r for r in reports if not r.ok]
    if not bad:
        return None
    more = f" ({len(bad) - 1} more bad case(s); run `gdl-medseg verify`)" if len(bad) > 1 else ""
    return f"case {bad[0].id}: {bad[0].problems[0]}{more}"
