"""The Lightning task: MolPropNet + masked loss + target scaling + what to check.

The core's ``GDLTask`` owns the shared arguments (symmetry mode, optimiser, schedule,
augmentation seed: passed through ``**base_kwargs``), builds the network through
``build_network(equivariant)``, runs ``check_symmetry`` on a copy and keeps best.ckpt
by ``selection_metric``. This module adds only what is molecular.

Hyperparameters are primitives only (numbers, strings, lists, a dict of them), so a
checkpoint reloads with ``weights_only=True``. The preparation settings are one of them,
``prep`` (the data module's ``PrepSettings`` as a dict, linked by the CLI): ``predict``
prepares new molecules exactly as the training data were, from the checkpoint alone.
The data module also supplies task names, task type and target scaling through links.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

import torch
import torchmetrics
from torch import nn

from gdl_molprop.data.batching import prepare_graphs
from gdl_molprop.data.chem import molecule_feature_count
from gdl_molprop.data.features import ATOM_FEATURES, FEATURE_VERSION
from gdl_molprop.data.settings import PrepSettings
from gdl_molprop.groups import spatial_group
from gdl_molprop.metrics import task_metrics
from gdl_molprop.model import MolPropNet
from gdl_molprop.plots import prediction_plot
from gdl_science.graphs import GraphBatch
from gdl_science.io import UserInputError
from gdl_science.symmetry import NodePermutationGroup, ProductGroup
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

FEATURE_VERSION_KEY = "molprop_feature_version"  # in the checkpoint dict, not in hparams

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
    """Molecular property prediction (regression or binary classification, multi-task).

    chirality: False: the model's group is S_N × E(3) (mirror images get the same
    prediction); True: S_N × SE(3) (R/S features and a reflection-sensitive 3D stage;
    for properties that differ between enantiomers). ``layers/chirality.py``.
    """

    def __init__(
        self,
        task_names: list[str] | None = None,
        task_type: Literal["regression", "classification"] = "regression",
        target_mean: list[float] | None = None,
        target_std: list[float] | None = None,
        architecture: Literal["hybrid", "egnn"] = "hybrid",
        width: int = 300,
        depth: int = 3,
        radial_layers: int = 1,
        radial_width: int = 64,
        num_layers: int = 3,
        num_rbf: int = 24,
        readout: Literal["sum", "mean", "norm"] = "norm",
        head_hidden: int = 300,
        dropout: float = 0.1,
        chirality: bool = False,
        prep: dict[str, Any] | None = None,
        smiles_column: str = "smiles",
        warmup_steps: int = 100,
        **base_kwargs,
    ) -> None:
        super().__init__(warmup_steps=warmup_steps, **base_kwargs)

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
        self.prep_settings = PrepSettings.from_hparams(h.prep).resolved(self.task_type)
        self.geometry = self.prep_settings.geometry
        self.cutoff = self.prep_settings.cutoff
        self.test_store = PredictionStore()  # (preds, targets) of test, all DDP ranks

    def build_network(self, equivariant: bool) -> nn.Module:
        h = self.hparams
        return MolPropNet(
            num_tasks=len(self.task_names),
            width=h.width,
            num_layers=h.num_layers,
            num_rbf=h.num_rbf,
            cutoff=self.cutoff,
            geometry=self.geometry,
            equivariant=equivariant,
            readout=h.readout,
            head_hidden=h.head_hidden,
            dropout=h.dropout,
            architecture=h.architecture,
            depth=h.depth,
            radial_layers=h.radial_layers,
            radial_width=h.radial_width,
            descriptors=molecule_feature_count(self.prep_settings),
            chirality=h.chirality,
        )

    def selection_metric(self) -> SelectionMetric:
        # The masked loss on standardised targets weighs every task equally, as the
        # mean of the per-task metrics would; it exists even for a 1-molecule val split.
        return SelectionMetric("val/loss", "min")

    # ----- checkpoints: the atom feature table they were trained on -------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[FEATURE_VERSION_KEY] = FEATURE_VERSION

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Refuse, in one line, a checkpoint trained on another atom/bond feature table
        (its first layers have another input width; loading would be a shape error).

        A checkpoint without the version (made before it was recorded, or written by
        hand as weights + hyperparameters) is checked by its weight shapes: if they fit
        this network it loads, else it is from feature table v1."""
        version = checkpoint.get(FEATURE_VERSION_KEY)
        if version is None:
            own = self.state_dict()
            state = checkpoint.get("state_dict", {})
            fits = all(own[k].shape == v.shape for k, v in state.items() if k in own)
            version = FEATURE_VERSION if fits else 1
        if version != FEATURE_VERSION:
            raise UserInputError(
                f"checkpoint made with molprop atom features v{version}; this gdl-molprop "
                f"uses v{FEATURE_VERSION} ({ATOM_FEATURES} atom features, an 'other element' "
                "slot): retrain it with this version (gdl-molprop fit)"
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
        """``augment``: one random rigid motion (a rotation, with a reflection half of the
        time unless ``chirality``) + translation, and an atom permutation."""
        if batch.pos is not None:
            group = spatial_group(self.hparams.chirality)
            batch = group.act_on_graph(group.sample(generator), batch)
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
        """Invariance of the predictions under S_N × E(3), or S_N × SE(3) with
        ``chirality`` (S_N only for 2D graphs); the group's name is printed.

        Elements: atom permutations (reversal + random, within each molecule) and rigid
        motions (E(3): a 90° rotation, a random rotation, a mirror, a roto-reflection with
        translation, a pure translation, a random element; SE(3): those without a mirror,
        and a random rotation with translation), singly and combined.
        """
        batch = prepare_graphs(self, input_path, CHECK_SMILES, limit=8).to("cpu", dtype)
        perms = NodePermutationGroup(batch.batch)
        if batch.pos is None:
            return SymmetryCheck(
                self.predict_values, perms, batch, NodePermutationGroup.act_on_graph
            )
        spatial = spatial_group(self.hparams.chirality)
        group = ProductGroup(perms, spatial)
        action = product_action(NodePermutationGroup.act_on_graph, spatial.act_on_graph)
        return SymmetryCheck(self.predict_values, group, batch, action)
