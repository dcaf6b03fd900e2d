"""The output guard, safe checkpoint refusals, file modes and remote paths (issue 17)."""

from __future__ import annotations

import json
import os
import pickle
import stat

import pytest
import torch

from gdl_science.cli.lightning import AtomicCheckpointIO
from gdl_science.io import (
    UserInputError,
    atomic_path,
    atomic_write,
    check_output_path,
    load_checkpoint,
    refuse_remote,
)
from gdl_science.io.ensemble_manifest import EnsembleMember, member_checkpoints, write_manifest
from gdl_science.io.remote import is_remote


def ensemble(tmp_path):
    """A manifest folder with two members' best/last checkpoints (dummy files)."""
    root = tmp_path / "ens"
    members = []
    for i in range(2):
        ckpts = root / f"member_{i}" / "checkpoints"
        ckpts.mkdir(parents=True)
        for name in ("best", "last"):
            torch.save({"state_dict": {}}, ckpts / f"{name}.ckpt")
        members.append(
            EnsembleMember(i, f"member_{i}/checkpoints/best.ckpt",
                           f"member_{i}/checkpoints/last.ckpt", "val/loss", 0.1, "s")
        )
    write_manifest(root / "ensemble.json", 2, members)
    return root


@pytest.mark.parametrize(
    "target, given",
    [
        ("ens/ensemble.json", "ens/ensemble.json"),
        ("ens", "ens"),
        ("ens", "ens/ensemble.json"),
        ("ens/member_0/checkpoints/best.ckpt", "ens"),
        ("ens/member_1/checkpoints/last.ckpt", "ens/ensemble.json"),
        ("ens/member_0/checkpoints/best.ckpt", "ens/member_0/checkpoints/best.ckpt"),
    ],
)
def test_output_may_not_be_a_checkpoint_a_manifest_or_a_member(tmp_path, target, given):
    ensemble(tmp_path)
    with pytest.raises(UserInputError, match="output would overwrite") as info:
        check_output_path(tmp_path / target, [], [str(tmp_path / given)], expect="file")
    assert "\n" not in str(info.value)


def test_existing_model_files_and_ensemble_folders_are_refused_even_if_not_given(tmp_path):
    root = ensemble(tmp_path)
    for target in (root / "ensemble.json", root / "member_0/checkpoints/last.ckpt"):
        with pytest.raises(UserInputError, match="is a model file"):
            check_output_path(target)
    with pytest.raises(UserInputError, match="is an ensemble folder"):
        check_output_path(root, expect="folder")
    assert check_output_path(root / "preds.tsv", [], [str(root)]) == root / "preds.tsv"


def test_expected_kind_of_output(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "file.tsv").write_text("x")
    with pytest.raises(UserInputError, match="is a folder; --output names the file"):
        check_output_path(tmp_path / "dir", expect="file")
    with pytest.raises(UserInputError, match="exists and is not a folder"):
        check_output_path(tmp_path / "file.tsv", expect="folder")
    assert check_output_path(tmp_path / "dir", expect="folder") == tmp_path / "dir"


def test_files_honour_the_umask_checkpoints_too(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "a.tsv") as fh:
            fh.write("x\n")
        AtomicCheckpointIO().save_checkpoint({"state_dict": {}}, tmp_path / "c.ckpt")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
        assert modes == {"a.tsv": 0o644, "c.ckpt": 0o644}
        os.umask(0o077)
        with atomic_path(tmp_path / "private.bin") as tmp:
            tmp.write_bytes(b"x")
        assert stat.S_IMODE((tmp_path / "private.bin").stat().st_mode) == 0o600
        os.chmod(tmp_path / "a.tsv", 0o640)  # a replaced file keeps its own mode
        with atomic_write(tmp_path / "a.tsv") as fh:
            fh.write("y\n")
        assert stat.S_IMODE((tmp_path / "a.tsv").stat().st_mode) == 0o640
    finally:
        os.umask(old)


@pytest.mark.parametrize("url", ["s3://bucket/run", "gs://b/x.tsv", "https://h/x.ckpt", "s3:/b"])
def test_remote_paths_are_refused_in_one_line(tmp_path, url):
    assert is_remote(url)
    with pytest.raises(UserInputError, match="remote paths are not supported"):
        check_output_path(url)
    with pytest.raises(UserInputError, match="remote paths"), atomic_path(url):
        pass
    with pytest.raises(UserInputError, match=r"--checkpoint .*remote paths"):
        load_checkpoint(url)
    with pytest.raises(UserInputError, match=r"--trainer\.default_root_dir"):
        refuse_remote(url, "--trainer.default_root_dir")
    assert not is_remote("C:/data/x.tsv") and not is_remote("runs/s3/x")


def test_non_checkpoints_are_one_line_refusals_without_the_unsafe_hint(tmp_path):
    text = tmp_path / "notes.ckpt"
    text.write_text("hello world\n")  # torch raises KeyError: 101 ('e') on this
    payload = tmp_path / "payload.ckpt"
    torch.save({"state_dict": {}, "x": pickle.loads}, payload)
    for path, reason in ((text, "KeyError"), (payload, "refused: it holds Python objects")):
        with pytest.raises(UserInputError) as info:
            load_checkpoint(path)
        message = str(info.value)
        assert message.startswith(f"{path}: not a readable") and reason in message
        assert "weights_only" not in message and "\n" not in message


def test_manifest_members_outside_its_folder_are_refused(tmp_path):
    root = ensemble(tmp_path)
    body = json.loads((root / "ensemble.json").read_text())
    for bad in ("/etc/passwd", "../elsewhere.ckpt"):
        body["members"][1]["best"] = bad
        (root / "ensemble.json").write_text(json.dumps(body))
        with pytest.raises(UserInputError, match="outside the manifest's folder"):
            member_checkpoints(root / "ensemble.json")
    body["members"][1]["best"] = 5
    (root / "ensemble.json").write_text(json.dumps(body))
    with pytest.raises(UserInputError, match="not a gdl-science ensemble manifest"):
        member_checkpoints(root / "ensemble.json")
