"""The Lightning task: MolPropNet + masked loss + target scaling + what to check.

The core's ``GDLTask`` owns the shared arguments (symmetry mode, optimiser, schedule,
augmentation seed: passed through ``**base_kwargs``), builds the network through
``build_network(equivariant)``, runs ``check_symmetry`` on a copy and keeps best.ckpt
by ``selection_metric``. This module adds only what is molecular.

Hyperparameters are primitives only (numbers, strings, lists of strings/floats), so a
checkpoint reloads with ``weights_only=True``. The preparation settings (geometry,
hydrogens, conformers, force field, descriptors, ...) are part of them: ``predict``
prepares new molecules exactly as the training data were, from the checkpoint alone.
The data module supplies task names, target scaling and preparation settings through
CLI links.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import torch
import torchmetrics
from torch import nn

from gdl_molprop.data.batching import prepare_graphs
from gdl_molprop.data.chem import DESCRIPTOR_NAMES, PrepSettings
from gdl_molprop.metrics import task_metrics
from gdl_molprop.model import MolPropNet
from gdl_molprop.plots import prediction_plot
from gdl_science.graphs import GraphBatch
from gdl_science.symmetry import E3Group, NodePermutationGroup, ProductGroup
from gdl_science.symmetry.group import product_action
from gdl_science.training import (
    GDLTask,
    PredictionStore,
    SelectionMetric,
    StepOutput,
    SymmetryCheck,
    logit_mean_sigmoid,
    masked_loss,
)

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
        architecture: Literal["hybrid", "egnn"] = "hybrid",
        width: int = 64,
        depth: int = 3,
        radial_layers: int = 1,
        radial_width: int = 64,
        num_layers: int = 3,
        num_rbf: int = 24,
        readout: Literal["sum", "mean", "norm"] = "sum",
        head_hidden: int = 64,
        dropout: float = 0.0,
        geometry: Literal["3d", "2d"] = "3d",
        cutoff: float = 5.0,
        hydrogens: bool = False,
        num_conformers: int = 1,
        conformer_seed: int = 0,
        max_heavy_atoms: int = 100,
        forcefield: Literal["mmff", "none"] = "mmff",
        fallback_2d: bool = False,
        descriptors: bool = False,
        embed_hydrogens: bool = True,
        smiles_column: str = "smiles",
        **base_kwargs,
    ) -> None:
        super().__init__(**base_kwargs)

    def configure(self) -> None:
        h = self.hparams
        self.task_names = list(h.task_names or ["target"])
        self.task_type = h.task_type
        n = len(self.task_names)
        mean = list(h.target_mean) if h.target_mean else [0.0] * n
        std = list(h.target_std) if h.target_std else [1.0] * n
        if len(mean) != n or len(std) != n:
            raise ValueError(f"target_mean/std need {n} values (one per task)")
        # Buffers so they move with the module; also restated in hparams for readability.
        self.register_buffer("y_mean", torch.tensor(mean, dtype=torch.float32), persistent=False)
        self.register_buffer("y_std", torch.tensor(std, dtype=torch.float32), persistent=False)
        self.geometry = h.geometry
        self.cutoff = h.cutoff
        self.test_store = PredictionStore()  # (preds, targets) of test, all DDP ranks

    def build_network(self, equivariant: bool) -> nn.Module:
        h = self.hparams
        return MolPropNet(
            num_tasks=len(self.task_names),
            width=h.width,
            num_layers=h.num_layers,
            num_rbf=h.num_rbf,
            cutoff=h.cutoff,
            geometry=h.geometry,
            equivariant=equivariant,
            readout=h.readout,
            head_hidden=h.head_hidden,
            dropout=h.dropout,
            architecture=h.architecture,
            depth=h.depth,
            radial_layers=h.radial_layers,
            radial_width=h.radial_width,
            descriptors=len(DESCRIPTOR_NAMES) if h.descriptors else 0,
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
            forcefield=h.forcefield,
            fallback_2d=h.fallback_2d,
            descriptors=h.descriptors,
            embed_hydrogens=h.embed_hydrogens,
        )

    def selection_metric(self) -> SelectionMetric:
        # The masked loss on standardised targets weighs every task equally, as the
        # mean of the per-task metrics would; it exists even for a 1-molecule val split.
        return SelectionMetric("val/loss", "min")

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

    def ensemble_output(self, outputs: list[torch.Tensor]) -> torch.Tensor:
        """Ensemble validation: probabilities averaged for classifiers (as predict does);
        standardised values are averaged as they are."""
        if self.task_type == "classification":
            return logit_mean_sigmoid(outputs)
        return torch.stack(outputs).mean(0)

    # ----- training ----------------------------------------------------------------
    def step(self, batch: GraphBatch) -> StepOutput:
        raw = self(batch)  # (G, T)
        target = batch.y  # (G, T), NaN = missing
        if self.task_type == "classification":
            loss = masked_loss(raw, target, "binary")
            preds = torch.sigmoid(raw)
        else:
            loss = masked_loss(raw, (target - self.y_mean) / self.y_std, "regression")
            preds = raw * self.y_std + self.y_mean
        return StepOutput(loss, preds.detach(), target, batch_size=batch.num_graphs)

    def random_transform(self, batch: GraphBatch, generator: torch.Generator) -> GraphBatch:
        """``augment``: one random rotation/reflection + translation and atom permutation."""
        if batch.pos is not None:
            batch = E3Group.act_on_graph(E3Group().sample(generator), batch)
        perm = NodePermutationGroup(batch.batch).sample(generator)
        return NodePermutationGroup.act_on_graph(perm, batch)

    def configure_metrics(self) -> torchmetrics.MetricCollection:
        return task_metrics(self.task_names, self.task_type)

    # ----- test: keep the predictions and draw them ----------------------------------
    def update_metrics(self, stage: str, out: StepOutput) -> None:
        super().update_metrics(stage, out)
        if stage == "test":
            self.test_store.update(out.preds, out.target)

    def on_test_epoch_start(self) -> None:
        self.test_store.reset()

    def on_test_epoch_end(self) -> None:
        """Keep (targets, predictions) (n, T) in ``test_predictions`` and write a parity
        plot (regression) or ROC curves (classification) beside the logs. Under DDP the
        store gathers every rank's share, so the plot shows the whole test set."""
        gathered = self.test_store.compute()
        if gathered is None:
            return
        p, y = (t.double().cpu().numpy() for t in gathered)
        self.test_predictions = (y, p)
        folder = self.trainer.log_dir if self._trainer is not None else None
        if folder and self.trainer.is_global_zero:
            kind = "roc" if self.task_type == "classification" else "parity"
            path = prediction_plot(
                y, p, self.task_names, self.task_type, Path(folder) / f"test_{kind}.png", "test "
            )
            print(f"molprop: test {kind} plot: {path}", file=sys.stderr)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        # Per-task metrics on every training step (4 x T masked metrics) cost more than
        # the step itself on small molecules; val and test keep them, train keeps loss.
        if "train_metrics" in self.metrics:
            del self.metrics["train_metrics"]

    # ----- symmetry ----------------------------------------------------------------
    def symmetry_check(self, input_path: str | None, dtype: torch.dtype) -> SymmetryCheck:
        """Invariance of the predictions under S_N × E(3) (S_N only for 2D graphs).

        Elements: atom permutations (reversal + random, within each molecule) and E(3)
        isometries (a 90° rotation, a random rotation, a mirror, a roto-reflection with
        translation, a pure translation, a random element), singly and combined.
        """
        batch = prepare_graphs(self, input_path, CHECK_SMILES, limit=8).to("cpu", dtype)
        perms = NodePermutationGroup(batch.batch)
        if batch.pos is None:
            return SymmetryCheck(
                self.predict_values, perms, batch, NodePermutationGroup.act_on_graph
            )
        group = ProductGroup(perms, E3Group())
        action = product_action(NodePermutationGroup.act_on_graph, E3Group.act_on_graph)
        return SymmetryCheck(self.predict_values, group, batch, action)
