"""The test helper that reads event files back orders them as written."""

import glob
import os
import tempfile

import tensorflow as tf

from tests.training import event_files


class ReadTagsTest(tf.test.TestCase):
    def test_events_in_the_order_written_whatever_the_file_names(self):
        folder = tempfile.mkdtemp(dir=self.get_temp_dir())
        for step in (1, 6):  # two processes' writers, one after the other
            writer = tf.summary.create_file_writer(folder)
            with writer.as_default():
                tf.summary.scalar("eval/loss", float(step), step=step)
            writer.close()
        first, second = sorted(
            glob.glob(os.path.join(folder, "events.out.tfevents.*")),
            key=os.path.getmtime,
        )
        # A writer's name ends in a per-process counter: the eleventh
        # writer's "...10.v2" sorts before the tenth's "...9.v2".
        os.rename(first, os.path.join(folder, "events.out.tfevents.9.v2"))
        os.rename(second, os.path.join(folder, "events.out.tfevents.10.v2"))
        self.assertEqual(
            event_files.read_tags(folder)["eval/loss"], [(1, 1.0), (6, 6.0)]
        )


if __name__ == "__main__":
    tf.test.main()
