"""Every `>>>` example in the library's docstrings runs and prints what it
shows."""

import doctest
import importlib
import os
import pkgutil

from absl.testing import absltest
from absl.testing import parameterized

import mi_zoo


def is_binary(info):
    """absl binaries define their flags at import; importing two that share
    a flag name in one process fails, and their docs are the --help. A
    binary calls `app.run(main)`, or defines flags and runs as a script
    (`binaries.run_binary`: mi_zoo.features.extract, the experiments)."""
    spec = info.module_finder.find_spec(info.name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return False
    with open(spec.origin, encoding="utf-8") as f:
        text = f.read()
    return "app.run(main)" in text or (
        "flags.DEFINE_" in text and 'if __name__ == "__main__":' in text
    )


def library_modules():
    return sorted(
        info.name
        for info in pkgutil.walk_packages(mi_zoo.__path__, "mi_zoo.")
        if not is_binary(info)
    )


class DocstringsTest(parameterized.TestCase):
    def test_found_the_modules(self):
        self.assertIn(
            "mi_zoo.layers.multiplicative_interaction", library_modules()
        )

    @parameterized.named_parameters(
        # "." -> "__": mi_zoo.data.sort_of_clevr.builder and its old alias
        # mi_zoo.data.sort_of_clevr_builder get two names.
        (name.replace(".", "__"), name)
        for name in library_modules()
    )
    def test_examples(self, name):
        module = importlib.import_module(name)
        result = doctest.testmod(
            module,
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
            verbose=False,
        )
        self.assertEqual(
            result.failed,
            0,
            f"{result.failed} failing example(s) in {name}; "
            f"run python -m doctest -v {name.replace('.', os.sep)}.py",
        )


if __name__ == "__main__":
    absltest.main()
