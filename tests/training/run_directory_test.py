"""RunDirectory in process: what --overwrite may delete, the lock, the
settings that may differ, extension and the clean-up of a failed start."""

import json
import os
import shutil
import tempfile

from absl.testing import absltest

from mi_zoo.training import run_directory

RunDirectoryError = run_directory.RunDirectoryError


def _run_dir(path, **settings):
    values = {
        "model_dir": path,
        "train_steps": 10,
        "learning_rate": 0.1,
        "log_every": 5,
    }
    values.update(settings)
    return run_directory.RunDirectory(
        path,
        values,
        ignore=("log_every",),
        outputs=("vocabulary.json",),
        length_setting="train_steps",
    )


def _finish(run_dir):
    run_dir.start()
    run_dir.write_json(run_directory.RESULTS_FILE, {"step": 10})
    run_dir.close()


class RunDirectoryTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.path = os.path.join(self.dir, "run")

    def _touch(self, *names):
        for name in names:
            path = os.path.join(self.path, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(name)

    def test_overwrite_deletes_the_runs_entries_only_when_alone(self):
        self._touch(
            "flags.json",
            "results.json",
            "vocabulary.json",
            "checkpoints/ckpt-1.index",
            "train/events",
            "eval/events",
            "saved_model/saved_model.pb",
            "model.keras",
            "results.json.tmp",
        )
        self.assertEqual(_run_dir(self.path).foreign_entries(), [])
        run_dir = _run_dir(self.path)
        self.assertFalse(run_dir.open(overwrite=True))
        run_dir.close()
        self.assertEqual(os.listdir(self.path), [run_directory.LOCK_FILE])

    def test_overwrite_refuses_and_keeps_everything(self):
        self._touch("flags.json", "thesis.txt", "photos/a.jpg", "results.json")
        run_dir = _run_dir(self.path)
        with self.assertRaisesRegex(
            RunDirectoryError,
            r"--overwrite refused: .* not a run's: "
            r"photos, thesis\.txt\. Move them away",
        ):
            run_dir.open(overwrite=True)
        self.assertCountEqual(
            os.listdir(self.path),
            [
                "flags.json",
                "thesis.txt",
                "photos",
                "results.json",
                run_directory.LOCK_FILE,
            ],
        )
        # The lock was released: the folder can be opened again.
        os.remove(os.path.join(self.path, "thesis.txt"))
        shutil.rmtree(os.path.join(self.path, "photos"))
        run_dir.open(overwrite=True)
        run_dir.close()

    def test_one_run_at_a_time(self):
        first = _run_dir(self.path)
        first.open()
        second = _run_dir(self.path)
        with self.assertRaisesRegex(
            RunDirectoryError,
            rf"in use by another run \(pid "
            rf"{os.getpid()}\)",
        ):
            second.open()
        first.close()
        second.open()
        second.close()

    def test_model_dir_is_a_file(self):
        with open(self.path, "w") as f:
            f.write("x")
        with self.assertRaisesRegex(
            RunDirectoryError, "is a file, not a folder"
        ):
            _run_dir(self.path).open()

    def test_failed_start_removes_the_folder_it_made(self):
        run_dir = _run_dir(self.path)
        run_dir.open()
        run_dir.close()  # never started
        self.assertFalse(os.path.exists(self.path))
        os.makedirs(self.path)
        run_dir = _run_dir(self.path)
        run_dir.open()
        run_dir.close()
        self.assertEqual(os.listdir(self.path), [run_directory.LOCK_FILE])

    def test_opened_closes_however_the_block_ends(self):
        run_dir = _run_dir(self.path)
        with run_dir.opened() as resuming:
            self.assertFalse(resuming)
            with self.assertRaisesRegex(RunDirectoryError, "in use"):
                _run_dir(self.path).open()
        self.assertFalse(os.path.exists(self.path))  # closed, never started
        with self.assertRaisesRegex(ValueError, "inside"):
            with _run_dir(self.path).opened():
                raise ValueError("inside")
        with _run_dir(self.path).opened():  # the lock was released
            pass

    def test_settings_moved_folder_and_extension(self):
        run_dir = _run_dir(self.path)
        self.assertFalse(run_dir.open())
        _finish(run_dir)
        with self.assertRaisesRegex(
            RunDirectoryError,
            r"finished run .*Pass "
            r"--train_steps larger than 10",
        ):
            _run_dir(self.path).open()
        longer = _run_dir(self.path, train_steps=20, log_every=1)
        self.assertTrue(longer.open())
        longer.check_step(10)
        longer.close()
        with self.assertRaisesRegex(
            RunDirectoryError, r"--learning_rate=0.1 \(now 0.2\)"
        ):
            _run_dir(self.path, train_steps=20, learning_rate=0.2).open()
        moved = os.path.join(self.dir, "moved")
        shutil.move(self.path, moved)
        with open(os.path.join(moved, "flags.json")) as f:
            self.assertEqual(json.load(f)["model_dir"], self.path)
        again = _run_dir(moved, train_steps=20)
        self.assertTrue(again.open())
        with self.assertRaisesRegex(
            RunDirectoryError, r"--train_steps=5 is below step 10"
        ):
            _run_dir(moved, train_steps=5).check_step(10)
        again.close()

    def test_malformed_flags_json(self):
        self._touch("flags.json")
        with self.assertRaisesRegex(
            RunDirectoryError,
            r"flags\.json is not "
            r"valid JSON",
        ):
            _run_dir(self.path).open()


if __name__ == "__main__":
    absltest.main()
