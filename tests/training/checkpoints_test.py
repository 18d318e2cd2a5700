"""CheckpointStore: saves in the CheckpointManager layout with relative
paths, keeps max_to_keep, flushes a checkpoint before the state file names
it (a SIGKILL during saves never leaves the state file naming a checkpoint
that does not read back), falls back past damaged checkpoints and keeps
their files."""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from unittest import mock

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from mi_zoo.training import checkpoints


def _store(directory, value=0.0, max_to_keep=3):
    variable = tf.Variable(np.full([50, 50], value, np.float32))
    checkpoint = tf.train.Checkpoint(v=variable)
    return checkpoints.CheckpointStore(
        checkpoint, directory, max_to_keep
    ), variable


class CheckpointStoreTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.ckpt = os.path.join(self.dir, "checkpoints")

    def _save_steps(self, steps, max_to_keep=3):
        store, variable = _store(self.ckpt, max_to_keep=max_to_keep)
        for step in steps:
            variable.assign(tf.fill([50, 50], float(step)))
            store.save(step)
        return store

    def test_layout_rotation_and_relative_state(self):
        store = self._save_steps([1, 2, 3, 4, 5])
        self.assertEqual(store.numbers(), [3, 4, 5])
        self.assertEqual(
            tf.train.latest_checkpoint(self.ckpt),
            os.path.join(self.ckpt, "ckpt-5"),
        )
        with open(os.path.join(self.ckpt, "checkpoint")) as f:
            state = f.read()
        self.assertNotIn(self.dir, state)  # relative: the folder can move
        moved = os.path.join(self.dir, "moved")
        shutil.move(self.ckpt, moved)
        store, variable = _store(moved)
        self.assertEqual(store.restore_latest(), os.path.join(moved, "ckpt-5"))
        self.assertEqual(float(variable[0, 0]), 5.0)

    def test_empty_folder_restores_nothing(self):
        store, _ = _store(self.ckpt)
        self.assertIsNone(store.restore_latest())

    def test_files_are_flushed_before_the_state_names_them(self):
        store, _ = _store(self.ckpt)
        events = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd):
            events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
            return real_fsync(fd)

        def replace(src, dst):
            events.append(("replace", dst))
            return real_replace(src, dst)

        with (
            mock.patch.object(os, "fsync", fsync),
            mock.patch.object(os, "replace", replace),
        ):
            store.save(7)
        state = os.path.join(self.ckpt, "checkpoint")
        named = events.index(("replace", state))
        flushed = {path for kind, path in events[:named] if kind == "fsync"}
        for f in glob.glob(os.path.join(self.ckpt, "ckpt-7.*")):
            self.assertIn(f, flushed)

    def test_damaged_checkpoints_fall_back_and_are_kept(self):
        self._save_steps([1, 2, 3])
        data = glob.glob(os.path.join(self.ckpt, "ckpt-3.data-*"))[0]
        with open(data, "r+b") as f:
            f.truncate(100)
        os.remove(os.path.join(self.ckpt, "ckpt-2.index"))
        store, variable = _store(self.ckpt)
        lines = []
        self.assertEqual(
            store.restore_latest(report=lines.append),
            os.path.join(self.ckpt, "ckpt-1"),
        )
        self.assertEqual(float(variable[0, 0]), 1.0)
        self.assertLen(lines, 2)
        self.assertRegex(
            lines[0],
            r"^ckpt-3 is damaged \(IndexError: Read "
            r"less bytes than requested\); resuming from ckpt-1 "
            r"\(its files are kept in .*damaged\)\.$",
        )
        self.assertRegex(lines[1], r"^ckpt-2 is damaged \(NotFoundError: ")
        self.assertCountEqual(
            os.listdir(os.path.join(self.ckpt, "damaged")),
            [
                "ckpt-3.index",
                os.path.basename(data),
                "ckpt-2.data-00000-of-00001",
            ],
        )
        self.assertEqual(
            tf.train.latest_checkpoint(self.ckpt),
            os.path.join(self.ckpt, "ckpt-1"),
        )
        # Saving step 3 again does not touch the damaged files.
        variable.assign(tf.fill([50, 50], 33.0))
        store.save(3)
        self.assertEqual(
            os.path.getsize(
                os.path.join(self.ckpt, "damaged", os.path.basename(data))
            ),
            100,
        )

    def test_nothing_readable_is_an_error_and_deletes_nothing(self):
        self._save_steps([1])
        os.remove(os.path.join(self.ckpt, "ckpt-1.index"))
        store, _ = _store(self.ckpt)
        with self.assertRaisesRegex(
            checkpoints.CheckpointError,
            r"no checkpoint in .* can be read: ckpt-1 \(NotFoundError",
        ):
            store.restore_latest()
        self.assertTrue(glob.glob(os.path.join(self.ckpt, "ckpt-1.data-*")))

    def test_another_model_is_not_damage(self):
        self._save_steps([1])
        other = tf.train.Checkpoint(w=tf.Variable(1.0))
        store = checkpoints.CheckpointStore(other, self.ckpt, 3)
        with self.assertRaises(AssertionError):
            store.restore_latest()
        self.assertTrue(
            os.path.exists(os.path.join(self.ckpt, "ckpt-1.index"))
        )

    def test_bad_max_to_keep(self):
        with self.assertRaisesRegex(ValueError, "max_to_keep=0"):
            checkpoints.CheckpointStore(tf.train.Checkpoint(), self.dir, 0)

    def test_sigkill_during_saves_leaves_a_readable_latest(self):
        script = textwrap.dedent(f"""
            import numpy as np, tensorflow as tf
            from mi_zoo.training import checkpoints
            v = tf.Variable(np.zeros([1000, 1000], np.float32))
            store = checkpoints.CheckpointStore(
                tf.train.Checkpoint(v=v), {self.ckpt!r}, 2)
            step = len(store.numbers()) and store.numbers()[-1]
            print("ready", flush=True)
            while True:
                step += 1
                v.assign(tf.fill([1000, 1000], float(step)))
                store.save(step)
            """)
        rng = np.random.default_rng(0)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        for _ in range(3):
            child = subprocess.Popen(
                [sys.executable, "-c", script],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.assertEqual(child.stdout.readline().strip(), "ready")
            time.sleep(rng.uniform(0.3, 1.5))
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdout.close()
            latest = tf.train.latest_checkpoint(self.ckpt)
            self.assertIsNotNone(latest)
            reader = tf.train.load_checkpoint(latest)
            value = reader.get_tensor("v/.ATTRIBUTES/VARIABLE_VALUE")
            self.assertEqual(value[0, 0], int(latest.split("-")[-1]))


if __name__ == "__main__":
    absltest.main()
