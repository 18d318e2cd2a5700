"""The `--model_dir` of a run: what is in it and whether it may be reused.

Layout (the run's own entries; `--overwrite` deletes these and nothing
else):
  flags.json       every setting of the run (written once the run has
                   started: data and model built, checkpoint restored)
  checkpoints/     numbered checkpoints (`checkpoints.CheckpointStore`)
  train/, eval/    TensorBoard event files
  results.json     final metrics (written at the end: the run is finished)
  model.keras      the trained model
  saved_model/     the same model as a SavedModel for serving
  .run.lock        the lock a running run holds (`fcntl.flock`)
and the outputs a binary declares (e.g. the lm binary's vocabulary.json).

    run_dir = RunDirectory(path, settings, length_setting="train_steps")
    with run_dir.opened(overwrite=False) as resuming:  # lock, check, clear?
        ...                                    # build, restore
        run_dir.check_step(restored_step)
        run_dir.start()                        # flags.json
        ...                                    # train, write results
    # closed: unlocked

(`opened` is `open()`, then `close()` however the block ends.)
"""

import contextlib
import errno
import json
import os
import shutil
from typing import Iterable
from typing import Mapping
from typing import Optional

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows: no lock)
    fcntl = None

FLAGS_FILE = "flags.json"
RESULTS_FILE = "results.json"
LOCK_FILE = ".run.lock"
MODEL_FILE = "model.keras"

#: What every run writes into its model_dir.
RUN_ENTRIES = (
    FLAGS_FILE,
    RESULTS_FILE,
    "checkpoints",
    "train",
    "eval",
    MODEL_FILE,
    "saved_model",
    LOCK_FILE,
)

#: Settings that are paths of the run itself: a run folder that was moved or
#: copied resumes where it now is.
RUN_PATHS = ("model_dir",)


class RunDirectoryError(RuntimeError):
    """The model_dir cannot be used for this run (the message says why and
    what to do)."""


class RunDirectory:
    """Paths, lock and bookkeeping files of one run.

    Args:
      path: the model_dir.
      settings: the run's settings (JSON-serialisable values), compared with
        those of an earlier run in the same directory.
      ignore: settings that may differ when a run is resumed (e.g. how often
        to log).
      outputs: names of the other files and folders the binary writes in
        the model_dir (they count as the run's own for `--overwrite`).
      length_setting: the setting that says how long the run trains (e.g.
        "train_steps"): a finished run started again with a larger value is
        extended instead of refused, and it may differ on resume. None: a
        finished run is always refused.
      hints: {setting: text} appended to the message when that setting
        differs from the earlier run's.
    """

    def __init__(
        self,
        path: str,
        settings: Mapping[str, object],
        ignore: Iterable[str] = (),
        outputs: Iterable[str] = (),
        length_setting: Optional[str] = None,
        hints: Optional[Mapping[str, str]] = None,
    ):
        if not path or not isinstance(path, str):
            raise ValueError(
                f"`model_dir` must be a directory path, got "
                f"model_dir={path!r}."
            )
        self.path = path
        self.settings = dict(settings)
        self.length_setting = length_setting
        self.ignore = (
            frozenset(ignore)
            | frozenset(RUN_PATHS)
            | ({length_setting} if length_setting else set())
        )
        self.entries = frozenset(RUN_ENTRIES) | frozenset(outputs)
        self.hints = dict(hints or {})
        self._lock_fd = None
        self._created = False
        self._started = False

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    @property
    def checkpoints(self) -> str:
        return self.file("checkpoints")

    def finished(self) -> bool:
        return os.path.exists(self.file(RESULTS_FILE))

    def foreign_entries(self):
        """Names in the folder that no run writes (sorted)."""
        if not os.path.isdir(self.path):
            return []
        return sorted(
            name
            for name in os.listdir(self.path)
            if name not in self.entries
            and not _is_temporary(name, self.entries)
        )

    # ----------------------------------------------------------- the lock
    def lock(self):
        """Makes the folder if needed and takes its exclusive lock for the
        life of this process (the OS releases it when the process ends, even
        on SIGKILL).

        Raises:
          RunDirectoryError: another process holds the lock, or model_dir
            is not a folder.
        """
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise RunDirectoryError(
                f"model_dir={self.path!r} is a file, not a folder. Choose "
                f"another --model_dir."
            )
        if not os.path.isdir(self.path):
            os.makedirs(self.path)
            self._created = True
        if fcntl is None:
            return
        fd = os.open(self.file(LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.read(fd, 64).decode(errors="replace").strip()
            os.close(fd)
            if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise RunDirectoryError(
                f"model_dir={self.path!r} is in use by another run (pid "
                f"{holder or '?'}). Wait for it to end, stop it, or choose "
                f"another --model_dir."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def unlock(self):
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    # -------------------------------------------------------- the run
    def open(self, overwrite: bool = False, write: bool = True) -> bool:
        """Locks the folder (when `write`), checks that this run may use it
        and, with `overwrite`, deletes an earlier run's files; returns True
        when there is an earlier run to resume or extend.

        Args:
          overwrite: delete an earlier run's files (only the run's own: a
            folder holding anything else is refused) and start afresh.
          write: whether this process writes files (only the chief locks
            and deletes).

        Raises:
          RunDirectoryError: the folder is in use, holds other files
            (with overwrite), holds a finished run that this run would not
            extend, or a run started with other settings.
        """
        if write:
            self.lock()
        try:
            if overwrite and write:
                self.clear()
            earlier = self._earlier_settings()
            if self.finished():
                self._check_extends(earlier)
            if earlier is not None:
                self._check_same_settings(earlier)
            return earlier is not None or self.finished()
        except BaseException:
            self.close()
            raise

    @contextlib.contextmanager
    def opened(self, overwrite: bool = False, write: bool = True):
        """`open(overwrite, write)` for a `with` block, which gets what
        `open` returns (whether there is an earlier run); `close()` when
        the block ends, also on an error."""
        resuming = self.open(overwrite, write)
        try:
            yield resuming
        finally:
            self.close()

    def clear(self):
        """Deletes the run's own entries (never anything else).

        Raises:
          RunDirectoryError: the folder holds entries no run writes; they are
            named and nothing is deleted.
        """
        foreign = self.foreign_entries()
        if foreign:
            shown = ", ".join(foreign[:10]) + (
                f" and {len(foreign) - 10} more" if len(foreign) > 10 else ""
            )
            raise RunDirectoryError(
                f"--overwrite refused: model_dir={self.path!r} holds files "
                f"that are not a run's: {shown}. Move them away or choose "
                f"another --model_dir; --overwrite deletes only a run's own "
                f"files ({', '.join(sorted(self.entries - {LOCK_FILE}))})."
            )
        for name in sorted(os.listdir(self.path)):
            if name == LOCK_FILE:
                continue
            path = self.file(name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)

    def _check_extends(self, earlier):
        """A finished run may be extended: a larger length than it had."""
        if self.length_setting and earlier is not None:
            before = earlier.get(self.length_setting)
            now = self.settings.get(self.length_setting)
            if (
                isinstance(before, int)
                and isinstance(now, int)
                and (now > before)
            ):
                return
            extend = (
                f" Pass --{self.length_setting} larger than {before} "
                f"to train it further, choose"
                if isinstance(before, int)
                else " Choose"
            )
        else:
            extend = " Choose"
        raise RunDirectoryError(
            f"model_dir={self.path!r} holds a finished run "
            f"({self.file(RESULTS_FILE)} exists).{extend} another "
            f"--model_dir, or pass --overwrite to delete it and train "
            f"again."
        )

    def _check_same_settings(self, earlier):
        changed = sorted(
            k
            for k in set(earlier) | set(self.settings)
            if k not in self.ignore and earlier.get(k) != self.settings.get(k)
        )
        if not changed:
            return
        lines = ", ".join(
            f"--{k}={earlier.get(k)!r} (now {self.settings.get(k)!r})"
            for k in changed
        )
        hints = "".join(
            f" {self.hints[k]}" for k in changed if k in self.hints
        )
        raise RunDirectoryError(
            f"model_dir={self.path!r} holds a run with other settings: "
            f"{lines}. Resume it with the same settings, choose another "
            f"--model_dir, or pass --overwrite to delete it and start "
            f"afresh.{hints}"
        )

    def check_step(self, step: int):
        """Refuses a length below the step the run has reached."""
        length = self.settings.get(self.length_setting)
        if self.length_setting and isinstance(length, int) and step > length:
            raise RunDirectoryError(
                f"--{self.length_setting}={length} is below step {step} "
                f"that the run in model_dir={self.path!r} has reached. Pass "
                f"--{self.length_setting} of at least {step}, or "
                f"--overwrite to train afresh."
            )

    def start(self, write: bool = True):
        """Records the settings (flags.json): call once the run has started
        (data and model built, checkpoint restored), so that a run that
        fails before leaves no settings behind."""
        if write:
            self.write_json(FLAGS_FILE, self.settings)
        self._started = True

    def close(self):
        """Releases the lock; a folder this run made and never started in
        is removed again when nothing but the lock file is in it."""
        self.unlock()
        if (
            self._created
            and not self._started
            and os.path.isdir(self.path)
            and set(os.listdir(self.path)) <= {LOCK_FILE}
        ):
            if os.path.exists(self.file(LOCK_FILE)):
                os.remove(self.file(LOCK_FILE))
            os.rmdir(self.path)
        self._created = False

    def _earlier_settings(self):
        path = self.file(FLAGS_FILE)
        if not os.path.exists(path):
            return None
        try:
            with open(path) as f:
                return json.load(f)
        except ValueError as e:
            raise RunDirectoryError(
                f"{path} is not valid JSON ({e}); it records the settings of "
                f"the run in model_dir. Restore it, or pass --overwrite to "
                f"train afresh."
            ) from None

    def write_json(self, name: str, value) -> str:
        """Writes `value` as JSON atomically (write, flush, then rename)."""
        path = self.file(name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(value, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path


def _is_temporary(name: str, entries) -> bool:
    """`<entry>.tmp` files a killed write leaves behind are the run's."""
    return name.endswith(".tmp") and name[: -len(".tmp")] in entries
