"""The README's functional-API example runs as written."""

import os
import re

from absl.testing import absltest

# tests/repo/ -> the repository root (under Bazel, README.md and .ci/run are
# data files at the same relative place in the runfiles).
ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


class ReadmeTest(absltest.TestCase):
    def test_python_example_runs(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
        self.assertLen(blocks, 1)
        self.assertLessEqual(len(blocks[0].strip().splitlines()), 11)
        namespace = {}
        exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
        self.assertEqual(
            tuple(namespace["model"].outputs[0].shape), (None, 10)
        )

    def test_ci_runs_the_readme_test_command(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        command = re.search(
            r"Install and run the tests.*?```sh\n(.*?)\n```", readme, re.S
        ).group(1)
        with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as f:
            self.assertIn(command, f.read())


if __name__ == "__main__":
    absltest.main()
