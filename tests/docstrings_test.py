"""Every `>>>` example in the library's docstrings runs and prints what it
shows."""

import doctest
import importlib
import os
import pkgutil

from absl.testing import absltest
from absl.testing import parameterized

import mi_zoo

# Modules whose examples need a clean process (none yet).
SKIP = frozenset()


def library_modules():
    names = []
    for info in pkgutil.walk_packages(mi_zoo.__path__, "mi_zoo."):
        if info.name not in SKIP:
            names.append(info.name)
    return sorted(names)


class DocstringsTest(parameterized.TestCase):

    def test_found_the_modules(self):
        self.assertIn("mi_zoo.layers.multiplicative_interaction",
                      library_modules())

    @parameterized.named_parameters(
        (name.replace(".", "_"), name) for name in library_modules())
    def test_examples(self, name):
        module = importlib.import_module(name)
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS
            | doctest.NORMALIZE_WHITESPACE, verbose=False)
        self.assertEqual(result.failed, 0,
                         f"{result.failed} failing example(s) in {name}; "
                         f"run python -m doctest -v {name.replace('.', os.sep)}.py")


if __name__ == "__main__":
    absltest.main()
