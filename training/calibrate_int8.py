"""Calibrate a model's int8: the activation maxima ``precision="int8"`` smooths with, or that
pick the input channels it runs in float32.

    python training/calibrate_int8.py models/argmine-mpnet-policy --outliers 3  # as shipped
    python training/calibrate_int8.py runs/mpnet/13 --alpha 0.75 --first-token apart
    python training/calibrate_int8.py FOLDER --remove      # back to plain dynamic int8

Runs the model in float32 over the first ``--comments`` CDCP train comments (training texts, so
the dev set that judges int8 stays out of its calibration), records each encoder linear layer's
largest absolute input per channel (:class:`argmine.model.int8.InputMaxima`), and writes them to
the folder's ``int8_calibration.safetensors`` with ``int8_smoothing`` or (``--outliers``)
``int8_outlier_ratio`` in its ``config.json``; with ``--outliers`` it prints how many channels
that puts in float32.
The trained weights are not touched; float32 and bfloat16 ignore both. Judge the result with
``python benchmarks/precision_units.py --model FOLDER --only int8`` and ``argmine evaluate
--model FOLDER --precision int8``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from argmine.runtime import FIRST_TOKEN_MODES  # torch-free: --help stays fast


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path, help="model folder (written in place)")
    parser.add_argument("--alpha", type=float, default=0.75, help="SmoothQuant's alpha")
    parser.add_argument("--first-token", choices=FIRST_TOKEN_MODES, default="apart")
    parser.add_argument(
        "--outliers", type=float, metavar="RATIO",
        help="instead of smoothing, run input channels louder than RATIO x the median in float32",
    )  # fmt: skip
    parser.add_argument("--comments", type=int, default=128, help="CDCP train comments")
    parser.add_argument("--remove", action="store_true", help="remove the calibration")
    args = parser.parse_args(argv)

    from safetensors.torch import save_file

    import argmine
    from argmine.hub.folders import CONFIG_NAME, INT8_CALIBRATION_NAME
    from argmine.training.int8_calibration import cdcp_train_maxima, outlier_summary

    config_path = args.model / CONFIG_NAME
    config = json.loads(config_path.read_text())
    if args.remove:
        config.pop("int8_smoothing", None)
        config.pop("int8_outlier_ratio", None)
        (args.model / INT8_CALIBRATION_NAME).unlink(missing_ok=True)
        config_path.write_text(json.dumps(config, indent=2) + "\n")
        return 0
    if not 0.0 <= args.alpha <= 1.0:
        parser.error("--alpha is between 0 and 1")
    if args.outliers is not None and args.outliers <= 1.0:
        parser.error("--outliers is a ratio above 1 (times the median channel)")
    maxima = cdcp_train_maxima(argmine.load(args.model, precision="float32"), args.comments)
    save_file(maxima, str(args.model / INT8_CALIBRATION_NAME))
    if args.outliers is None:
        config["int8_smoothing"] = {"alpha": args.alpha, "first_token": args.first_token}
        config.pop("int8_outlier_ratio", None)
        how = f"int8_smoothing {config['int8_smoothing']}"
    else:
        config["int8_outlier_ratio"] = args.outliers
        config.pop("int8_smoothing", None)
        how = f"int8_outlier_ratio {args.outliers}: {outlier_summary(maxima, args.outliers)}"
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    print(
        f"{args.model / INT8_CALIBRATION_NAME}: {len(maxima)} layers calibrated on "
        f"{args.comments} CDCP train comments; {how}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
