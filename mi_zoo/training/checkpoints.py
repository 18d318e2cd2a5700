"""Numbered checkpoints of a run that survive kills and damaged files.

    store = CheckpointStore(tf.train.Checkpoint(model=model, step=step),
                            "/tmp/run/checkpoints", max_to_keep=3)
    restored = store.restore_latest(report=print)   # None: nothing to resume
    ...
    store.save(step_number)

The folder has the layout of `tf.train.CheckpointManager` (`ckpt-<N>.index`,
`ckpt-<N>.data-*` and the `checkpoint` state file, with relative paths so
the run folder can be moved), and `tf.train.latest_checkpoint` reads it. What
the manager does not do:

- **Atomic saves.** A checkpoint's files are written and flushed to disk
  (`fsync`) before the state file names it, and the state file is replaced
  atomically (write, `fsync`, rename), so a kill during a save leaves the
  state file naming the previous, complete checkpoint. Rotated-out
  checkpoints are deleted only after the new state is on disk.
- **Fallback.** `restore_latest` reads every checkpoint from the newest
  down, and restores the newest one whose every tensor reads back (data
  present, sizes and checksums right) and that restores. A damaged newer
  checkpoint is reported in one line ("ckpt-200 is damaged (…); resuming
  from ckpt-100") and its files are moved, never deleted, into `damaged/`
  beside the checkpoints, so that the run's later saves cannot overwrite
  them.
"""

import glob
import os
import re
import shutil
from typing import Callable
from typing import List
from typing import Optional

import tensorflow as tf

PREFIX = "ckpt"
STATE_FILE = "checkpoint"
DAMAGED_DIR = "damaged"
_NUMBER = re.compile(rf"^{PREFIX}-(\d+)\.")


class CheckpointError(RuntimeError):
    """No checkpoint of the folder can be read."""


class CheckpointStore:
    """Saves and restores `checkpoint` as `<directory>/ckpt-<N>`.

    Args:
      checkpoint: the `tf.train.Checkpoint` of everything to save.
      directory: the folder of the checkpoints (made on the first save).
      max_to_keep: checkpoints kept on disk; older ones are deleted after a
        save (never a damaged one: those are moved aside first).
      write: whether this process owns the folder (the chief): only then
        does a fallback move damaged files aside.
    """

    def __init__(
        self,
        checkpoint: tf.train.Checkpoint,
        directory: str,
        max_to_keep: int,
        write: bool = True,
    ):
        if not isinstance(max_to_keep, int) or max_to_keep < 1:
            raise ValueError(
                f"`max_to_keep` must be a positive int, got "
                f"max_to_keep={max_to_keep!r}."
            )
        self.checkpoint = checkpoint
        self.directory = directory
        self.max_to_keep = max_to_keep
        self.write = write

    def path(self, number: int) -> str:
        return os.path.join(self.directory, f"{PREFIX}-{number}")

    def numbers(self) -> List[int]:
        """Numbers of the checkpoints in the folder (complete or not),
        ascending."""
        found = set()
        for name in (
            os.listdir(self.directory) if os.path.isdir(self.directory) else ()
        ):
            match = _NUMBER.match(name)
            if match:
                found.add(int(match.group(1)))
        return sorted(found)

    @property
    def latest(self) -> Optional[str]:
        """The checkpoint the state file names (None if none)."""
        return tf.train.latest_checkpoint(self.directory)

    # ---------------------------------------------------------- restoring
    def restore_latest(
        self, report: Callable[[str], None] = print
    ) -> Optional[str]:
        """Restores the newest checkpoint that reads back and restores;
        returns its path, or None when the folder has no checkpoint.

        Each damaged newer checkpoint is reported with `report` in one line
        and moved into `damaged/` (by the chief only).

        Raises:
          CheckpointError: checkpoints exist and none of them reads back.
          AssertionError: a checkpoint reads back but does not match the
            objects (another model): not damage, so no fallback.
        """
        damaged = []
        for number in reversed(self.numbers()):
            path = self.path(number)
            try:
                _check_readable(path)
                self.checkpoint.read(path).assert_existing_objects_matched()
            except (tf.errors.OpError, ValueError, IndexError) as e:
                damaged.append((number, _one_line(e)))
                continue
            if damaged:
                self._set_aside(damaged, number, report)
                self._write_state([n for n in self.numbers() if n <= number])
            return path
        if damaged:
            raise CheckpointError(
                f"no checkpoint in {self.directory} can be read: "
                + "; ".join(
                    f"{PREFIX}-{n} ({reason})" for n, reason in damaged
                )
                + ". Pass --overwrite to train afresh (the damaged files "
                "are deleted with the run's other files)."
            )
        return None

    def _set_aside(self, damaged, resumed: int, report):
        where = os.path.join(self.directory, DAMAGED_DIR)
        for number, reason in damaged:
            kept = ""
            if self.write:
                os.makedirs(where, exist_ok=True)
                for f in glob.glob(self.path(number) + ".*"):
                    os.replace(f, os.path.join(where, os.path.basename(f)))
                kept = f" (its files are kept in {where})"
            report(
                f"{PREFIX}-{number} is damaged ({reason}); resuming from "
                f"{PREFIX}-{resumed}{kept}."
            )

    # ------------------------------------------------------------- saving
    def save(self, number: int) -> str:
        """Writes checkpoint `number`, flushes it to disk, then names it in
        the state file and deletes the checkpoints beyond `max_to_keep`."""
        os.makedirs(self.directory, exist_ok=True)
        path = self.checkpoint.write(self.path(number))
        for f in glob.glob(path + ".*"):
            _fsync_file(f)
        _fsync_dir(self.directory)
        numbers = [
            n
            for n in self.numbers()
            if n <= number and os.path.exists(self.path(n) + ".index")
        ]
        kept = numbers[-self.max_to_keep :]
        self._write_state(kept)
        for n in numbers[: -self.max_to_keep]:
            for f in glob.glob(self.path(n) + ".*"):
                os.remove(f)
        return path

    def _write_state(self, numbers: List[int]):
        """Replaces the state file atomically: the newest of `numbers` is
        the latest; paths are relative (the run folder can move)."""
        lines = (
            [f'model_checkpoint_path: "{PREFIX}-{numbers[-1]}"']
            if (numbers)
            else []
        )
        lines += [
            f'all_model_checkpoint_paths: "{PREFIX}-{n}"' for n in numbers
        ]
        state = os.path.join(self.directory, STATE_FILE)
        tmp = state + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, state)
        _fsync_dir(self.directory)


def _check_readable(path: str):
    """Reads every tensor of checkpoint `path` back (the reader checks
    sizes and checksums). Variant tensors (dataset iterators) cannot be read
    this way; restoring them checks them."""
    reader = tf.train.load_checkpoint(path)
    for key, dtype in reader.get_variable_to_dtype_map().items():
        if dtype != tf.variant:
            reader.get_tensor(key)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}"[:200]


def _fsync_file(path: str):
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: str):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # Not every file system syncs folders.
        pass
    finally:
        os.close(fd)


def remove_scratch(directory: str):
    """Deletes a worker's scratch checkpoint folder (workers must save too:
    saving is a collective operation)."""
    shutil.rmtree(directory, ignore_errors=True)
