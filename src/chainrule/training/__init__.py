"""Numeric training on the generated kernels: datasets, batching, the loop, history, plots.

Plots (``chainrule.training.plots``) import matplotlib; nothing else here does.
"""

from chainrule.training.batching import BATCHINGS, batch_indices, epoch_batches, get_batching
from chainrule.training.datasets import DATASETS, Dataset, load_csv, load_data, make_dataset
from chainrule.training.history import HistoryWriter, read_history
from chainrule.training.loop import (
    Stepper,
    Targets,
    TrainConfig,
    TrainResult,
    compare,
    encode_targets,
    initial_params,
    make_schedule,
    resolve_optimizer,
    train,
)
from chainrule.training.params import INITS, Layout, init_params

__all__ = [
    "BATCHINGS",
    "DATASETS",
    "INITS",
    "Dataset",
    "HistoryWriter",
    "Layout",
    "Stepper",
    "Targets",
    "TrainConfig",
    "TrainResult",
    "batch_indices",
    "compare",
    "encode_targets",
    "epoch_batches",
    "get_batching",
    "init_params",
    "initial_params",
    "load_csv",
    "load_data",
    "make_dataset",
    "make_schedule",
    "read_history",
    "resolve_optimizer",
    "train",
]
