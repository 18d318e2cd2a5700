"""Makes a model_dir look like a run that was killed, for resume tests."""

import glob
import os

import tensorflow as tf

from mi_zoo.training import run_directory


def crash_after(model_dir, step):
    """Makes model_dir look like a run killed right after checkpoint
    `step`: later checkpoints and the results are gone."""
    directory = os.path.join(model_dir, "checkpoints")
    kept = []
    for index in glob.glob(os.path.join(directory, "ckpt-*.index")):
        number = int(index.split("-")[-1].split(".")[0])
        prefix = index[: -len(".index")]
        if number > step:
            for f in glob.glob(prefix + ".*"):
                os.remove(f)
        else:
            kept.append((number, prefix))
    kept.sort()
    tf.compat.v1.train.update_checkpoint_state(
        directory, kept[-1][1], all_model_checkpoint_paths=[p for _, p in kept]
    )
    os.remove(os.path.join(model_dir, run_directory.RESULTS_FILE))
