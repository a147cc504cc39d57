"""Calibrated int8 smoothing travels with a model folder (training/calibrate_int8.py)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

import argmine
from argmine.hub.folders import INT8_CALIBRATION_NAME, ModelLoadError
from argmine.model.int8 import OutliersApart, Smoothed
from argmine.runtime import int8_supported

sys.path.insert(0, str(Path(__file__).parents[2] / "training"))
import calibrate_int8  # noqa: E402  (training/calibrate_int8.py)

pytestmark = pytest.mark.skipif(not int8_supported(), reason="int8 needs an x86 CPU")


@pytest.fixture
def calibrated(tiny_model_dir, tmp_path) -> Path:
    folder = tmp_path / "calibrated"
    shutil.copytree(tiny_model_dir, folder)
    assert calibrate_int8.main([str(folder), "--alpha", "0.6", "--comments", "3"]) == 0
    return folder


def test_int8_smooths_with_the_folder_calibration_and_float32_ignores_it(calibrated, tiny_graphs):
    config = json.loads((calibrated / "config.json").read_text())
    assert config["int8_smoothing"] == {"alpha": 0.6, "first_token": "apart"}
    smoothed = argmine.load(calibrated, precision="int8")
    assert any(isinstance(m, Smoothed) for m in smoothed.model.encoder.modules())
    assert smoothed.parse(tiny_graphs[0].text).text == tiny_graphs[0].text
    plain = argmine.load(calibrated, precision="float32")
    assert not any(isinstance(m, Smoothed) for m in plain.model.encoder.modules())


def test_saving_keeps_the_calibration_and_the_float_weights(
    calibrated, tiny_model_dir, tiny_graphs
):
    resaved = calibrated.parent / "resaved"
    argmine.load(calibrated, precision="int8").save_pretrained(resaved)
    assert (resaved / INT8_CALIBRATION_NAME).is_file()
    texts = [g.text for g in tiny_graphs]
    again = argmine.load(resaved, precision="float32").pipe(texts)
    before = argmine.load(tiny_model_dir, precision="float32").pipe(texts)
    assert [g.to_dict() for g in again] == [g.to_dict() for g in before]


def test_a_missing_calibration_is_a_load_error_and_remove_undoes_it(calibrated):
    (calibrated / INT8_CALIBRATION_NAME).unlink()
    with pytest.raises(ModelLoadError, match=INT8_CALIBRATION_NAME):
        argmine.load(calibrated, precision="float32")
    assert calibrate_int8.main([str(calibrated), "--remove"]) == 0
    assert "int8_smoothing" not in json.loads((calibrated / "config.json").read_text())
    assert not any(
        isinstance(m, Smoothed)
        for m in argmine.load(calibrated, precision="int8").model.encoder.modules()
    )


def test_outliers_apart_replace_smoothing_and_remove_undoes_them(calibrated, tiny_graphs):
    assert calibrate_int8.main([str(calibrated), "--outliers", "1.5", "--comments", "3"]) == 0
    config = json.loads((calibrated / "config.json").read_text())
    assert config["int8_outlier_ratio"] == 1.5 and "int8_smoothing" not in config
    miner = argmine.load(calibrated, precision="int8")
    layers = list(miner.model.encoder.modules())
    assert any(isinstance(m, OutliersApart) for m in layers)
    assert not any(isinstance(m, Smoothed) for m in layers)
    assert miner.parse(tiny_graphs[0].text).text == tiny_graphs[0].text
    assert calibrate_int8.main([str(calibrated), "--remove"]) == 0
    assert "int8_outlier_ratio" not in json.loads((calibrated / "config.json").read_text())
    with pytest.raises(SystemExit):
        calibrate_int8.main([str(calibrated), "--outliers", "0.5"])


def test_the_outlier_summary_counts_the_channels_that_run_in_float32():
    import torch

    from argmine.training.int8_calibration import outlier_summary

    maxima = {"encoder.layer.0.output.dense": torch.tensor([1.0, 1.0, 1.0, 9.0])}
    maxima["encoder.layer.1.output.dense"] = torch.ones(4)
    summary = outlier_summary(maxima, ratio=3)
    assert summary.startswith("1 of 8 input channels above 3x their layer's median, in 1 of 2")
    assert "encoder.layer.N.output.dense 9x" in summary
