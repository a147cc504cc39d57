"""Long runs: checkpoints, resuming a killed run, gradient accumulation, devices."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import assert_one_line_error
from safetensors.torch import load_file

from argmine.cli import main
from argmine.corpus import load_graphs
from argmine.corpus.records import write_jsonl
from argmine.runtime import DeviceError, resolve_device
from argmine.training import TrainConfig, total_steps, train
from argmine.training.checkpoints import CHECKPOINT_NAME, load_checkpoint, save_checkpoint

RUN = {
    "name": "resumable",
    "version": "0.0.1",
    "encoder_layers": 1,
    "batch_size": 2,
    "hidden": 32,
    "head_lr": 3e-3,
    "log_every": 1,
    "checkpoint_every": 3,
    "average_from": 0.5,
    "loss_weights": {"tags": 1, "types": 1, "links": 1, "relation_types": 0.5, "structure": 1},
}


@pytest.fixture
def corpus(tmp_path, tiny_graphs):
    path = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_graphs * 3, path)  # 6 documents: 3 batches an epoch
    return path


def _config(tmp_path, **settings):
    path = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.json"
    path.write_text(json.dumps({**RUN, **settings}))
    return path


def _train_args(config, corpus, output, *extra):
    return ["train", "--config", str(config), "--train", str(corpus), "-o", str(output), *extra]


def _weights(folder):
    return load_file(str(folder / "model.safetensors"))


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    different = [name for name in a if not torch.equal(a[name], b[name])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


@pytest.mark.slow
def test_a_run_killed_with_sigkill_resumes_to_the_uninterrupted_result(tmp_path, corpus, capsys):
    config = _config(tmp_path, max_steps=40)
    assert main(_train_args(config, corpus, tmp_path / "straight")) == 0
    capsys.readouterr()

    killed = tmp_path / "killed"
    child = subprocess.Popen(
        [sys.executable, "-m", "argmine", *_train_args(config, corpus, killed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    checkpoint = killed / CHECKPOINT_NAME
    deadline = time.time() + 120
    while not checkpoint.exists() and child.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    output = child.communicate()[0]
    assert child.returncode == -signal.SIGKILL, f"the run ended before it was killed:\n{output}"
    assert checkpoint.exists() and not (killed / "model.safetensors").exists()

    assert main([*_train_args(config, corpus, killed), "--resume"]) == 0
    out = capsys.readouterr().out
    assert "resumed from" in out and "step 40/40" in out
    _assert_same_weights(_weights(killed), _weights(tmp_path / "straight"))
    assert not checkpoint.exists(), "a finished run removes its checkpoint"


def _interrupt_at_step(settings: TrainConfig, graphs, step: int) -> None:
    """Run ``settings`` and stop it (as Ctrl-C would) once step ``step`` is logged."""

    def stop(line: str) -> None:
        if line.startswith(f"step {step}/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(settings, graphs, dev_graphs=[], log=stop)


@pytest.mark.slow
def test_resuming_mid_epoch_gives_the_same_weights(tmp_path, tiny_graphs):
    """Stopped at step 5 (checkpoint at 3), resumed: steps 4 and 5 are redone identically."""
    settings = TrainConfig.from_dict({**RUN, "max_steps": 8})
    settings.output_dir = str(tmp_path / "stopped")
    _interrupt_at_step(settings, tiny_graphs * 3, 5)
    resumed = train(settings, tiny_graphs * 3, dev_graphs=[], log=lambda _: None, resume=True)
    settings.output_dir = str(tmp_path / "straight")
    straight = train(settings, tiny_graphs * 3, dev_graphs=[], log=lambda _: None)
    _assert_same_weights(resumed.model.stored_weights(), straight.model.stored_weights())


@pytest.mark.slow
def test_lead_in_views_reach_the_span_heads_and_resume_the_same(tmp_path, tiny_graphs, monkeypatch):
    """The span heads' lead-in views (``lead_in_units``) come from torch's generator, which the
    checkpoint saves: a resumed run draws the views the straight run drew."""
    from conftest import make_graph

    text = "Fees rose again. In short, fees should fall. So we must act now."
    units = [("Fees rose again", "evidence"), ("fees should fall", "conclusion")]
    units.append(("we must act now", "claim"))
    lead_ins = make_graph(text, units, [(0, 1, "support"), (2, 1, "support")], "lead-ins")
    graphs = (tiny_graphs + [lead_ins]) * 2
    settings = TrainConfig.from_dict({**RUN, "max_steps": 8, "lead_in_units": 0.5})
    settings.output_dir = str(tmp_path / "stopped")
    _interrupt_at_step(settings, graphs, 5)
    resumed = train(settings, graphs, dev_graphs=[], log=lambda _: None, resume=True)
    settings.output_dir = str(tmp_path / "straight")
    straight = train(settings, graphs, dev_graphs=[], log=lambda _: None)
    _assert_same_weights(resumed.model.stored_weights(), straight.model.stored_weights())
    # at rate 1 every step's span heads read the widened units, the tags stay gold
    import argmine.training.loop as loop

    seen, real = [], loop.batch_losses
    monkeypatch.setattr(
        loop, "batch_losses", lambda model, batch, *a: seen.extend(batch) or real(model, batch, *a)
    )
    always = TrainConfig.from_dict({**RUN, "max_steps": 4, "lead_in_units": 1.0})
    always.checkpoint_every = None
    train(always, graphs, dev_graphs=[], log=lambda _: None)
    widened = [e for e in seen if e.lead_in_spans is not None]
    assert widened and all(e.spans == e.lead_in_spans for e in widened)
    assert {text[a:b] for e in widened for a, b in e.spans} >= {"In short, fees should fall"}


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_or_partial_checkpoint_is_a_clear_error(tmp_path, corpus, capsys, damage):
    config = _config(tmp_path, max_steps=3)
    output = tmp_path / "out"
    settings = TrainConfig.from_file(config)
    settings.output_dir = str(output)
    _interrupt_at_step(settings, load_graphs(corpus), 3)
    checkpoint = output / CHECKPOINT_NAME
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(b"not a checkpoint" if damage == "garbage" else data[: len(data) // 2])
    code = main([*_train_args(config, corpus, output), "--resume"])
    assert_one_line_error(code, capsys.readouterr().err, "corrupt or partial", str(checkpoint))


def test_resume_without_a_checkpoint_never_restarts_silently(tmp_path, corpus, capsys):
    code = main([*_train_args(_config(tmp_path), corpus, tmp_path / "empty"), "--resume"])
    assert_one_line_error(code, capsys.readouterr().err, "no checkpoint")


@pytest.mark.slow
def test_a_checkpoint_from_another_recipe_is_refused(tmp_path, corpus, capsys):
    first = _config(tmp_path, max_steps=3)
    output = tmp_path / "out"
    settings = TrainConfig.from_file(first)
    settings.output_dir = str(output)
    _interrupt_at_step(settings, load_graphs(corpus), 3)
    other = _config(tmp_path, max_steps=3, head_lr=1e-2)
    code = main([*_train_args(other, corpus, output), "--resume"])
    assert_one_line_error(code, capsys.readouterr().err, "head_lr")


@pytest.mark.slow
def test_a_checkpoint_saved_under_the_old_head_names_resumes(tmp_path, tiny_graphs):
    """A run checkpointed before the proposition head's rename (its saved settings say
    ``native_labels`` and ``native_class_weight``) resumes under the renamed config."""
    settings = TrainConfig.from_dict({**RUN, "max_steps": 4})
    settings.output_dir = str(tmp_path / "run")
    _interrupt_at_step(settings, tiny_graphs * 3, 3)
    path = tmp_path / "run" / CHECKPOINT_NAME
    state = load_checkpoint(path)
    saved = state["config"]
    saved["native_labels"] = saved.pop("proposition_labels")
    saved["native_class_weight"] = saved.pop("proposition_class_weight")
    save_checkpoint(path, state)
    lines: list[str] = []
    train(settings, tiny_graphs * 3, dev_graphs=[], log=lines.append, resume=True)
    assert any(line.startswith("resumed from") and "step 3" in line for line in lines)


def test_checkpoints_need_an_output_folder(tiny_graphs):
    settings = TrainConfig.from_dict({**RUN, "max_steps": 2})
    with pytest.raises(ValueError, match="output folder"):
        train(settings, tiny_graphs, dev_graphs=[], log=lambda _: None)


@pytest.mark.slow
def test_accumulating_two_batches_of_one_gives_the_gradient_of_one_batch_of_two(
    tiny_graphs, monkeypatch, tmp_path
):
    """The first step over the same two documents, dropout off: the same gradient."""
    from tiny_encoders import build_tiny_encoder

    import argmine.training.loop as training

    no_dropout = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    base = build_tiny_encoder("bert", tmp_path / "base", **no_dropout)

    gradients = []

    def capture(parameters, max_norm):
        gradients.append([p.grad.clone() for p in parameters if p.grad is not None])
        return torch.tensor(0.0)

    monkeypatch.setattr(training.nn.utils, "clip_grad_norm_", capture)
    common = {**RUN, "checkpoint_every": None, "max_steps": 1, "dropout": 0.0, "average_from": None}
    common["encoder"] = str(base)
    for settings in ({"batch_size": 2}, {"batch_size": 1, "accumulate": 2}):
        train(TrainConfig.from_dict({**common, **settings}), tiny_graphs, [], lambda _: None)
    whole, accumulated = gradients
    assert len(whole) == len(accumulated) > 0
    for a, b in zip(whole, accumulated, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)


def test_accumulation_counts_optimiser_steps():
    accumulated = TrainConfig.from_dict({**RUN, "epochs": 2, "batch_size": 1, "accumulate": 2})
    assert total_steps(accumulated, n_documents=6) == 6  # 6 batches an epoch: 3 steps
    plain = TrainConfig.from_dict({**RUN, "epochs": 2, "batch_size": 1})
    assert total_steps(plain, n_documents=6) == 12


def test_auto_device_is_a_gpu_where_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type in ("cpu", "mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"


def test_an_unavailable_device_is_one_clear_error(monkeypatch, tmp_path, corpus, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="no cuda device"):
        resolve_device("cuda")
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("gpu")
    code = main([*_train_args(_config(tmp_path), corpus, tmp_path / "o"), "--device", "cuda"])
    assert_one_line_error(code, capsys.readouterr().err, "no cuda device")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_trains_on_cuda_and_the_model_loads_on_the_cpu(tmp_path, corpus, capsys):
    import argmine

    config = _config(tmp_path, max_steps=4, checkpoint_every=None)
    assert main([*_train_args(config, corpus, tmp_path / "gpu"), "--device", "cuda"]) == 0
    assert "(cuda)" in capsys.readouterr().out
    on_cpu = argmine.load(tmp_path / "gpu", device="cpu")
    on_gpu = argmine.load(tmp_path / "gpu", device="cuda")
    text = "We should ban cars. Cars pollute the air. Buses bring more customers."
    assert [c.text for c in on_cpu.parse(text)] == [c.text for c in on_gpu.parse(text)]
