"""TensorBoard summaries of a run: scalars, histograms, images, text and
hyper-parameters, under `<model_dir>/train` and `<model_dir>/eval`.

Only the chief writes; other workers get a `Summaries` whose methods do
nothing, so callers never test for it.
"""

import os
from typing import Mapping

import numpy as np
from tensorboard.plugins.hparams import api as hparams_api
import tensorflow as tf


def _clean(name):
    return name.replace(":", "_").replace(" ", "_")


class Summaries:
    """Writers for the "train" and "eval" folders of a model_dir.

    Args:
      model_dir: the run's directory.
      enabled: False on non-chief workers (nothing is written).
    """

    def __init__(self, model_dir: str, enabled: bool = True):
        self.enabled = enabled
        self._writers = {}
        if enabled:
            for mode in ("train", "eval"):
                self._writers[mode] = tf.summary.create_file_writer(
                    os.path.join(model_dir, mode)
                )

    def scalars(self, mode: str, values: Mapping[str, float], step: int):
        """Writes `values` as "<mode>/<name>" scalars."""
        if not self.enabled:
            return
        with self._writers[mode].as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(f"{mode}/{name}", float(value))

    def histograms(self, mode: str, tensors: Mapping[str, object], step: int):
        """Writes a histogram per tensor (e.g. weights or gradients)."""
        if not self.enabled:
            return
        with self._writers[mode].as_default(step=step):
            for name, value in tensors.items():
                tf.summary.histogram(_clean(name), value)

    def images(
        self,
        mode: str,
        images: Mapping[str, np.ndarray],
        step: int,
        max_outputs: int = 8,
    ):
        """Writes uint8 [N, H, W, 3] images."""
        if not self.enabled:
            return
        with self._writers[mode].as_default(step=step):
            for name, batch in images.items():
                tf.summary.image(
                    f"{mode}/{_clean(name)}",
                    np.asarray(batch, np.uint8),
                    max_outputs=max_outputs,
                )

    def text(self, mode: str, name: str, markdown: str, step: int = 0):
        if not self.enabled:
            return
        with self._writers[mode].as_default(step=step):
            tf.summary.text(name, markdown)

    def settings(
        self, settings: Mapping[str, object], hparams: Mapping[str, object]
    ):
        """Writes the run's settings as a text table and `hparams` to the
        HParams plugin (values that are not bool/int/float/str are shown as
        strings)."""
        if not self.enabled:
            return
        rows = "\n".join(
            f"| {k} | `{v}` |" for k, v in sorted(settings.items())
        )
        self.text(
            "train", "settings", "| setting | value |\n|---|---|\n" + rows
        )
        clean = {
            k: (v if isinstance(v, (bool, int, float, str)) else str(v))
            for k, v in hparams.items()
        }
        with self._writers["train"].as_default(step=0):
            hparams_api.hparams(clean)

    def flush(self):
        for writer in self._writers.values():
            writer.flush()
