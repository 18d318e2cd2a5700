"""The `--model_dir` of a run: what is in it and whether it may be reused.

Layout:
  flags.json       every setting of the run (written at the start)
  checkpoints/     `tf.train.CheckpointManager` checkpoints
  train/, eval/    TensorBoard event files
  results.json     final metrics (written at the end: the run is finished)
  model.keras      the trained model
  saved_model/     the same model as a SavedModel for serving
"""

import json
import os
import shutil
from typing import Iterable, Mapping

FLAGS_FILE = "flags.json"
RESULTS_FILE = "results.json"


class RunDirectoryError(RuntimeError):
    """The model_dir cannot be used for this run."""


class RunDirectory:
    """Paths and bookkeeping files of one run.

    Args:
      path: the model_dir.
      settings: the run's settings (JSON-serialisable values), compared with
        those of an earlier run in the same directory.
      ignore: settings that may differ when a run is resumed (e.g. how often
        to log).
    """

    def __init__(self, path: str, settings: Mapping[str, object],
                 ignore: Iterable[str] = ()):
        if not path:
            raise ValueError(f"`model_dir` must be a directory path, got "
                             f"model_dir={path!r}.")
        self.path = path
        self.settings = dict(settings)
        self.ignore = frozenset(ignore)

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    @property
    def checkpoints(self) -> str:
        return self.file("checkpoints")

    def finished(self) -> bool:
        return os.path.exists(self.file(RESULTS_FILE))

    def prepare(self, overwrite: bool = False, write: bool = True) -> bool:
        """Makes the directory ready; returns True when resuming.

        Args:
          overwrite: delete an earlier run's files and start afresh.
          write: whether this process writes files (only the chief does).

        Raises:
          RunDirectoryError: when an earlier run in the directory finished
            (unless overwrite), or was started with other settings.
        """
        if overwrite and os.path.isdir(self.path) and write:
            shutil.rmtree(self.path)
        if self.finished():
            raise RunDirectoryError(
                f"model_dir={self.path!r} holds a finished run "
                f"({self.file(RESULTS_FILE)} exists). Choose another "
                f"--model_dir, or pass --overwrite to delete it and train "
                f"again.")
        earlier = self._earlier_settings()
        if earlier is not None:
            changed = sorted(
                k for k in set(earlier) | set(self.settings)
                if k not in self.ignore
                and earlier.get(k) != self.settings.get(k))
            if changed:
                lines = ", ".join(
                    f"--{k}={earlier.get(k)!r} (now {self.settings.get(k)!r})"
                    for k in changed)
                raise RunDirectoryError(
                    f"model_dir={self.path!r} holds an unfinished run with "
                    f"other settings: {lines}. Resume it with the same "
                    f"settings, or pass --overwrite to start afresh.")
        resuming = earlier is not None
        if write:
            os.makedirs(self.path, exist_ok=True)
            self.write_json(FLAGS_FILE, self.settings)
        return resuming

    def _earlier_settings(self):
        path = self.file(FLAGS_FILE)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def write_json(self, name: str, value) -> str:
        """Writes `value` as JSON atomically (write, then rename)."""
        path = self.file(name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(value, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
        return path
