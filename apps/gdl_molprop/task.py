"""The Lightning task: MolPropNet + masked loss + target scaling + symmetry checks.

Hyperparameters are primitives only (numbers, strings, lists of strings/floats), so a
checkpoint reloads with ``weights_only=True``. The preparation settings (geometry,
hydrogens, conformers, cutoff, ...) are part of them: ``predict`` prepares new
molecules exactly as the training data were, from the checkpoint alone. The data module
supplies task names, target scaling and preparation settings through CLI links.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
import torchmetrics

from gdl_molprop.data.chem import PrepSettings
from gdl_molprop.metrics import task_metrics
from gdl_molprop.model import MolPropNet
from gdl_science.graphs import GraphBatch
from gdl_science.symmetry import (
    E3Group,
    EquivarianceReport,
    NodePermutationGroup,
    ProductGroup,
    check_equivariance,
)
from gdl_science.symmetry.group import product_action
from gdl_science.training import GDLTask, OptimizerName, SchedulerName, StepOutput, SymmetryMode

# Molecules check-symmetry uses when no --input is given: small, rigid and flexible,
# aromatic, charged, with rings and stereo.
CHECK_SMILES = (
    "CCO",
    "CC(=O)Oc1ccccc1C(=O)O",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "C[C@H](N)C(=O)O",
    "OCC1OC(O)C(O)C(O)C1O",
    "c1ccc2ccccc2c1",
    "CC(C)CC1=CC=C(C=C1)C(C)C(=O)[O-]",
    "FC(F)(F)c1ccc(Cl)cc1Br",
)


class MolPropTask(GDLTask):
    """Molecular property prediction (regression or binary classification, multi-task)."""

    def __init__(
        self,
        task_names: list[str] | None = None,
        task_type: Literal["regression", "classification"] = "regression",
        target_mean: list[float] | None = None,
        target_std: list[float] | None = None,
        width: int = 64,
        num_layers: int = 3,
        num_rbf: int = 24,
        readout: Literal["sum", "mean"] = "sum",
        head_hidden: int = 64,
        dropout: float = 0.0,
        geometry: Literal["3d", "2d"] = "3d",
        cutoff: float = 5.0,
        hydrogens: bool = False,
        num_conformers: int = 1,
        conformer_seed: int = 0,
        max_heavy_atoms: int = 100,
        smiles_column: str = "smiles",
        symmetry: SymmetryMode = "equivariant",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: OptimizerName = "adamw",
        scheduler: SchedulerName = "cosine",
        warmup_steps: int = 0,
        augment_seed: int = 0,
    ) -> None:
        super().__init__(
            symmetry, lr, weight_decay, optimizer, scheduler, warmup_steps, augment_seed
        )
        self.save_hyperparameters()
        self.task_names = list(task_names or ["target"])
        self.task_type = task_type
        n = len(self.task_names)
        mean = list(target_mean) if target_mean else [0.0] * n
        std = list(target_std) if target_std else [1.0] * n
        if len(mean) != n or len(std) != n:
            raise ValueError(f"target_mean/std need {n} values (one per task)")
        # Buffers so they move with the module; also restated in hparams for readability.
        self.register_buffer("y_mean", torch.tensor(mean, dtype=torch.float32), persistent=False)
        self.register_buffer("y_std", torch.tensor(std, dtype=torch.float32), persistent=False)
        self.geometry = geometry
        self.cutoff = cutoff
        self.net = MolPropNet(
            num_tasks=n,
            width=width,
            num_layers=num_layers,
            num_rbf=num_rbf,
            cutoff=cutoff,
            geometry=geometry,
            symmetry=symmetry,
            readout=readout,
            head_hidden=head_hidden,
            dropout=dropout,
        )

    @property
    def prep_settings(self) -> PrepSettings:
        h = self.hparams
        return PrepSettings(
            geometry=h.geometry,
            hydrogens=h.hydrogens,
            num_conformers=h.num_conformers,
            seed=h.conformer_seed,
            max_heavy_atoms=h.max_heavy_atoms,
        )

    # ----- forward: raw outputs and user-facing predictions --------------------------
    def forward(self, graph: GraphBatch) -> torch.Tensor:
        """(num_graphs, T) raw outputs: standardised values (regression) or logits."""
        return self.net(graph)

    def predict_values(self, graph: GraphBatch) -> torch.Tensor:
        """(num_graphs, T) in the user's units: de-standardised values or probabilities."""
        raw = self(graph)
        if self.task_type == "classification":
            return torch.sigmoid(raw)
        return raw * self.y_std.to(raw) + self.y_mean.to(raw)

    # ----- training ----------------------------------------------------------------
    def step(self, batch: GraphBatch) -> StepOutput:
        raw = self(batch)  # (G, T)
        target = batch.y
        mask = ~torch.isnan(target)
        safe = torch.where(mask, target, torch.zeros_like(target))
        if self.task_type == "classification":
            losses = F.binary_cross_entropy_with_logits(raw, safe, reduction="none")
            preds = torch.sigmoid(raw)
        else:
            scaled = (safe - self.y_mean) / self.y_std
            losses = F.mse_loss(raw, scaled, reduction="none")
            preds = raw * self.y_std + self.y_mean
        loss = (losses * mask).sum() / mask.sum().clamp(min=1)
        return StepOutput(loss, preds.detach(), target, batch_size=batch.num_graphs)

    def random_transform(self, batch: GraphBatch, generator: torch.Generator) -> GraphBatch:
        """``augment``: one random rotation/reflection + translation and atom permutation."""
        if batch.pos is not None:
            batch = E3Group.act_on_graph(E3Group().sample(generator), batch)
        perm = NodePermutationGroup(batch.batch).sample(generator)
        return NodePermutationGroup.act_on_graph(perm, batch)

    def configure_metrics(self) -> torchmetrics.MetricCollection:
        return task_metrics(self.task_names, self.task_type)

    # ----- symmetry ----------------------------------------------------------------
    def symmetry_inputs(self, input_path: str | None) -> GraphBatch:
        """A batch of prepared molecules: the first valid ones of ``input_path`` or built-ins."""
        from gdl_molprop.inference import prepare_graphs

        return prepare_graphs(self, input_path, CHECK_SMILES, limit=8)

    def check_symmetry(
        self, input_path: str | None = None, dtype: torch.dtype = torch.float64
    ) -> EquivarianceReport:
        """Invariance of the predictions under S_N × E(3) (S_N only for 2D graphs).

        Elements: atom permutations (reversal + random, within each molecule) and E(3)
        isometries (a 90° rotation, a random rotation, a mirror, a roto-reflection with
        translation, a pure translation, a random element), singly and combined.
        """
        batch = self.symmetry_inputs(input_path).to("cpu", dtype)
        model = _Predictor(self).to(dtype)
        perms = NodePermutationGroup(batch.batch)
        if batch.pos is None:
            return check_equivariance(model, perms, batch, NodePermutationGroup.act_on_graph)
        group = ProductGroup(perms, E3Group())
        action = product_action(NodePermutationGroup.act_on_graph, E3Group.act_on_graph)
        try:
            return check_equivariance(model, group, batch, action)
        finally:
            self.to(torch.float32)


class _Predictor(torch.nn.Module):
    """The task's user-facing prediction map as a module (for check_equivariance)."""

    def __init__(self, task: MolPropTask) -> None:
        super().__init__()
        self.task = task

    def forward(self, graph: GraphBatch) -> torch.Tensor:
        return self.task.predict_values(graph)
