"""What the TFDS builders of generated datasets (Sort-of-CLEVR, CLEVR-2D)
share: generation announced in one line instead of TFDS's download wording,
and TFDS's progress bars only at absl's debug level (`--verbosity=1`).

    class SortOfClevr(generated_builder.GeneratedBuilder):
        GENERATION_RATE = 1200    # examples per second, measured

        def generation_summary(self):
            return "Sort-of-CLEVR 'paper'", 108_000
"""

import contextlib
import sys
from typing import Tuple

from absl import logging
import tensorflow_datasets as tfds
from tensorflow_datasets.core.utils import tqdm_utils


class GeneratedBuilder(
    tfds.core.GeneratorBasedBuilder, skip_registration=True
):
    """A `GeneratorBasedBuilder` whose data is generated, not downloaded.

    Subclasses set `GENERATION_RATE` (examples per second on a 2-core CPU,
    measured) and implement `generation_summary`.
    """

    GENERATION_RATE = 1000

    def generation_summary(self) -> Tuple[str, int]:
        """(what is generated, e.g. "CLEVR-2D 'small'", number of
        examples)."""
        raise NotImplementedError

    def download_and_prepare(self, *args, **kwargs):
        """TFDS's `download_and_prepare`, announced in one line (see
        `_log_download_bytes`) and without TFDS's progress bars unless absl
        logs at debug level (`--verbosity=1`)."""
        with progress_bars(logging.level_debug()):
            super().download_and_prepare(*args, **kwargs)

    def _log_download_bytes(self):
        """Says what is built, about how long it takes and where, instead of
        TFDS's "Downloading and preparing dataset Unknown size (download:
        Unknown size, ...)": nothing is downloaded."""
        what, examples = self.generation_summary()
        seconds = max(5, round(examples / self.GENERATION_RATE / 5) * 5)
        print(
            f"Generating {what} ({examples:,} examples, about {seconds} s, "
            f"once) into {self.data_dir}",
            file=sys.stderr,
            flush=True,
        )


@contextlib.contextmanager
def progress_bars(show: bool):
    """TFDS's progress bars on (`show`) or off inside the block."""
    before = getattr(tqdm_utils, "_active", True)  # TFDS has no getter.
    tfds.display_progress_bar(show and before)
    try:
        yield
    finally:
        tfds.display_progress_bar(before)
