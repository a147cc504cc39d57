"""Training: fine-tune the encoder and every head on annotated graphs, from a config file.

- :mod:`argmine.training.config`: ``TrainConfig`` and ``CorpusSelection`` (training/configs/*.json);
- :mod:`argmine.training.examples`: gold graphs as targets for every head;
- :mod:`argmine.training.losses`: one loss per head, and the training-only auxiliary head;
- :mod:`argmine.training.loop`: the loop and resuming;
- :mod:`argmine.training.checkpoints`: checkpoints, written atomically;
- :mod:`argmine.training.stages`: a config that starts from another config's model;
- :mod:`argmine.training.tuning`: decoding settings calibrated on dev data;
- :mod:`argmine.training.calibration`: the link scorer's temperature, fitted on dev data;
- :mod:`argmine.training.int8_calibration`: activation maxima that smooth int8, on train texts;
- :mod:`argmine.training.distill`: a teacher's soft labels for every head (config ``distill``);
- :mod:`argmine.training.compare`: two recipes compared on seed means (training/compare.py);
- :mod:`argmine.training.soup`: the average of one recipe's seeds (training/soup.py).
"""

from argmine.training.config import CorpusSelection, TrainConfig
from argmine.training.examples import Example, make_example, structure_targets, type_masks
from argmine.training.loop import (
    TrainingRun,
    WeightAverage,
    save_trained,
    select_graphs,
    total_steps,
    train,
)
from argmine.training.losses import AuxiliaryHeads, batch_losses, example_losses
from argmine.training.tuning import tune_decoding

__all__ = [
    "AuxiliaryHeads",
    "CorpusSelection",
    "Example",
    "TrainConfig",
    "TrainingRun",
    "WeightAverage",
    "batch_losses",
    "example_losses",
    "make_example",
    "save_trained",
    "select_graphs",
    "structure_targets",
    "total_steps",
    "train",
    "tune_decoding",
    "type_masks",
]
