"""Weight averaging with our checkpoints: ``RCSafeEMA`` validates, and writes to best.ckpt and
last.ckpt, the *averaged* weights (so predict scores what was validated), and the RC
index buffers survive the averaging (Lightning 2.6.6's stock ``EMAWeightAveraging``
truncates them, and fails the first test: see ``gdl_dna.weight_averaging``).
"""

from __future__ import annotations

from pathlib import Path

import torch
import yaml
from gdl_dna.cli import SPEC
from gdl_dna.datamodule import DNADataModule
from gdl_dna.metrics import compute_metrics
from gdl_dna.task import DNATask

from gdl_science.cli import run_app
from gdl_science.io import load_task

ROOT = Path(__file__).resolve().parents[2]


def test_ema_callback_checkpoints_and_validates_the_averaged_weights(tmp_path, monkeypatch):
    config = yaml.safe_load((ROOT / "configs/dna/small.yaml").read_text())
    config["trainer"]["callbacks"] = [
        {"class_path": "gdl_dna.weight_averaging.RCSafeEMA", "init_args": {"decay": 0.9}}
    ]
    config["trainer"] |= {"enable_progress_bar": False, "logger": False, "num_sanity_val_steps": 0}
    (tmp_path / "ema.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path)
    # selection_tolerance 0: best.ckpt's score is its own epoch's auROC (not the plateau's).
    args = ["fit", "--config", str(tmp_path / "ema.yaml"), "--data.embedded_n", "200",
            "--model.selection_tolerance", "0",
            "--trainer.default_root_dir", str(tmp_path / "run")]  # fmt: skip
    assert run_app(SPEC, args) == 0
    folder = next((tmp_path / "run").rglob("checkpoints"))
    best_path = folder / "best.ckpt"
    ckpt = torch.load(best_path, weights_only=False)
    # The averaged weights are the state_dict; the raw ones are kept beside them.
    theta = "net.conv0.theta"
    assert not torch.equal(ckpt["state_dict"][theta], ckpt["current_model_state"][theta])
    last = torch.load(folder / "last.ckpt", weights_only=False)
    assert not torch.equal(last["state_dict"][theta], last["current_model_state"][theta])

    # The best score recorded during fit is what the averaged weights score on val.
    score = next(v["best_model_score"] for k, v in ckpt["callbacks"].items()
                 if k.startswith("ModelCheckpoint{'monitor': 'val/auroc'"))  # fmt: skip
    task = load_task(DNATask, best_path)
    data = DNADataModule(embedded_n=200, embedded_length=100, batch_size=32, seed=0)
    data.setup()
    val = data.datasets["val"]
    items = [val[i] for i in range(len(val))]
    preds = task.predict_sequences([x for x, _ in items])
    target = torch.stack([y for _, y in items])
    auroc = compute_metrics("binary", preds, target, task.spec.names, [])["auroc"]
    assert abs(auroc - float(score)) < 1e-6


def test_the_average_copies_integer_buffers_and_lerps_floats():
    from gdl_dna.weight_averaging import rc_safe_ema_avg_fn

    task = DNATask(sequence_length=50, channels=[4], kernel_sizes=[5], dilations=[1],
                   pool_sizes=[1], hidden=[4])  # fmt: skip
    averaged = torch.optim.swa_utils.AveragedModel(
        task, multi_avg_fn=rc_safe_ema_avg_fn(0.9), use_buffers=True
    )
    for _ in range(5):
        with torch.no_grad():
            task.net.conv0.theta.add_(1.0)
        averaged.update_parameters(task)
    index = dict(task.named_buffers())["net.conv0.weight_index"]
    assert torch.equal(dict(averaged.module.named_buffers())["net.conv0.weight_index"], index)
    theta, avg = task.net.conv0.theta, averaged.module.net.conv0.theta
    assert (avg < theta).all() and (avg > theta - 5).all()  # an average, behind the live one


def test_the_warm_up_starts_near_the_live_weights():
    from gdl_dna.weight_averaging import rc_safe_ema_avg_fn

    avg, live = [torch.zeros(3)], [torch.ones(3)]
    rc_safe_ema_avg_fn(0.998)(avg, live, torch.tensor(0))  # decay min(0.998, 1/10)
    assert torch.allclose(avg[0], torch.full((3,), 0.9))
    plain = [torch.zeros(3)]
    rc_safe_ema_avg_fn(0.998, warmup=False)(plain, live, torch.tensor(0))
    assert torch.allclose(plain[0], torch.full((3,), 0.002))


def test_ema_averages_the_network_the_strand_test_chose(tmp_path, monkeypatch):
    """``head: auto`` rebuilds the network in the task's setup, after callbacks' setup: the
    average must be of the strand network (the stock order averaged the provisional
    invariant one and failed on the first update), and a resumed fit restores it."""
    from gdl_dna.data.planted_motifs import generate

    _, rows = generate(600, 200, seed=0, forward_only=True)  # strand-specific labels
    table = tmp_path / "oriented.tsv"
    table.write_text("id\tsequence\ta\tb\tc\n" + "".join(
        f"s{i}\t{r[1]}\t" + "\t".join(str(int(v)) for v in r[2]) + "\n"
        for i, r in enumerate(rows)
    ))  # fmt: skip
    config = yaml.safe_load((ROOT / "configs/dna/small.yaml").read_text())
    config["trainer"]["callbacks"] = [
        {"class_path": "gdl_dna.weight_averaging.RCSafeEMA", "init_args": {"decay": 0.9}}
    ]
    config["trainer"] |= {"enable_progress_bar": False, "num_sanity_val_steps": 0}
    (tmp_path / "ema.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path)
    base = ["fit", "--config", str(tmp_path / "ema.yaml"), "--data.path", str(table),
            "--trainer.default_root_dir", str(tmp_path / "run")]  # fmt: skip
    assert run_app(SPEC, [*base, "--trainer.max_epochs", "1"]) == 0
    folder = tmp_path / "run/lightning_logs/version_0/checkpoints"
    first = torch.load(folder / "last.ckpt", weights_only=False)
    assert first["hyper_parameters"]["head"] == "strand"
    assert first["state_dict"].keys() == first["current_model_state"].keys()
    resumed = [*base, "--trainer.max_epochs", "2", "--ckpt_path", str(folder / "last.ckpt")]
    assert run_app(SPEC, resumed) == 0
    last = torch.load(next((tmp_path / "run").rglob("last.ckpt")), weights_only=False)
    assert last["epoch"] == 1 and last["hyper_parameters"]["head"] == "strand"
    avg, live = last["state_dict"], last["current_model_state"]
    floats = [k for k, v in avg.items() if v.is_floating_point()]
    assert any(not torch.equal(avg[k], live[k]) for k in floats)  # the average, not a copy
