"""Progress of a run: a bar with ETA on a terminal, log lines otherwise."""

import contextlib
import sys
import time
from typing import Mapping
from typing import Optional

from absl import logging
import keras


def _format(values: Mapping[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in values.items())


class Progress:
    """Reports training progress.

    On an interactive terminal it draws a `keras.utils.Progbar` with the
    ETA and the latest metrics; otherwise (a log file, a CI job) it writes
    one absl log line per update with the step, rate and ETA.

    Args:
      total_steps: the last step of the run.
      start_step: the step the run starts (or resumes) from.
      interactive: draw the bar; None asks whether stdout is a terminal.
    """

    def __init__(
        self,
        total_steps: int,
        start_step: int = 0,
        interactive: Optional[bool] = None,
    ):
        if interactive is None:
            interactive = sys.stdout.isatty()
        self.total_steps = total_steps
        self.start_step = start_step
        self.interactive = interactive
        self._start = time.perf_counter()
        self._bar = (
            keras.utils.Progbar(total_steps, unit_name="step")
            if interactive
            else None
        )
        if self._bar is not None and start_step:
            self._bar.update(start_step)

    def eta_seconds(self, step: int) -> float:
        done = step - self.start_step
        if done <= 0:
            return float("nan")
        rate = done / (time.perf_counter() - self._start)
        return (self.total_steps - step) / rate

    def update(self, step: int, values: Mapping[str, float]):
        if self._bar is not None:
            self._bar.update(step, values=list(values.items()))
            return
        eta = self.eta_seconds(step)
        logging.info(
            "step %d/%d  %s  eta %s",
            step,
            self.total_steps,
            _format(values),
            "?" if eta != eta else f"{eta:.0f}s",
        )

    def message(self, text: str):
        """A line that does not disturb the bar."""
        message(text, self._bar is not None)

    @contextlib.contextmanager
    def phase(self, name: str):
        """`with progress.phase("Evaluating"):` -- a line when the phase
        starts and one with its time when it ends (see `phase`)."""
        with phase(name, self._bar is not None):
            yield


def message(text: str, after_bar: bool = False):
    """One progress line (absl INFO). `after_bar`: a bar is on the line."""
    if after_bar:
        print(file=sys.stdout)
    logging.info("%s", text)


@contextlib.contextmanager
def phase(name: str, after_bar: bool = False):
    """`with phase("Building the model"):` -- says what the run is doing
    before a step that prints nothing (building data, evaluating), and how
    long it took when it ends, so that no stretch of a run is silent."""
    message(f"{name} ...", after_bar)
    start = time.perf_counter()
    yield
    logging.info("%s: done in %.1f s", name, time.perf_counter() - start)
