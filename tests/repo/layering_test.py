"""Checks the floors of mi_zoo: no package imports one above it.

Every package of mi_zoo has a floor (`FLOORS`); a module may import its own
package and any package on a lower floor, never one on a higher floor:

  0  core                       validation, registries, specs (no Keras)
  1  layers                     the Keras MI and conditioning layers
  2  fusion, sonnet             layers built from layers
  3  models                     the model zoo
  4  data, training, viz        may import ONLY core (and themselves)
  5  tasks, explain, rl,        what each experiment trains; predict:
     predict, features          a trained run answering about a user's
                                image (models + data + explain); features:
                                backbone grid features and their files
  6  experiments                the absl binaries

(benchmarks/ and tests/ are outside the package and may import anything.)
Packages on one floor may import each other, except data, training and viz,
which import nothing of mi_zoo but `mi_zoo.core`: the data pipelines and the
engine must not need the zoo. No module imports a private (`_`-prefixed)
module or name of another package, nor one of the aliases that keep an old
import path working for one release (`ALIASES`; those are for code outside
mi_zoo).

Every .py file under mi_zoo/ is parsed with `ast` (imports inside functions
count: a lazy import is still a dependency) and each offence is listed as
`file:line: import`. It runs under pytest and under Bazel, where it reads the
source tree as tests/repo/build_files_test.py does.
"""

import ast
import os

from absl.testing import absltest

FLOORS = {
    "core": 0,
    "layers": 1,
    "fusion": 2,
    "sonnet": 2,
    "models": 3,
    "data": 4,
    "training": 4,
    "viz": 4,
    "tasks": 5,
    "explain": 5,
    "rl": 5,
    # A trained model with its data codec and the explanation figure:
    # needs models (3), data (4) and explain (5), and no binary.
    "predict": 5,
    # Backbone grid features and their writer: the backbones (models:
    # models.backbones), the data layout (data.images) and the engine's
    # progress and one-line errors (training).
    "features": 5,
    "experiments": 6,
}
# The mi_zoo package itself (mi_zoo/__init__.py: the version) is the ground.
ROOT_FLOOR = 0
# Packages that may import nothing of mi_zoo but core (and themselves).
ONLY_CORE = ("data", "training", "viz")

# Old import paths kept for one release, each a module holding nothing but a
# docstring and imports from its new home (checked below). A module listed
# here may import its new home whatever the floors say, and no module of
# mi_zoo may import it. Remove an entry with its module.
ALIASES = {
    # Issue 15: the ground floor (mi_zoo.core).
    "mi_zoo/layers/_validation.py": "mi_zoo.core.validation",
    "mi_zoo/models/registry.py": "mi_zoo.core.registry",
    "mi_zoo/models/specs.py": "mi_zoo.core.specs",
    # Issue 15: layer helpers that fusion, sonnet and models use, made public.
    "mi_zoo/layers/_base.py": "mi_zoo.layers.base",
    "mi_zoo/layers/_ops.py": "mi_zoo.layers.ops",
    "mi_zoo/layers/_forms.py": "mi_zoo.layers.mi_forms",
    "mi_zoo/layers/_contraction.py": "mi_zoo.layers.mi_contraction",
    # Issue 15: the binaries' flags live with the binaries (training -> 6,
    # allowed only here).
    "mi_zoo/training/flags.py": "mi_zoo.experiments.flags",
    # Issue 15: the general drawing library (mi_zoo.viz).
    "mi_zoo/explain/figures.py": "mi_zoo.viz",
    # Issue 15: one room per dataset (mi_zoo/data/<dataset>/).
    "mi_zoo/data/sort_of_clevr_builder.py": "mi_zoo.data.sort_of_clevr.builder",
    "mi_zoo/data/sort_of_clevr_contact_sheet.py": "mi_zoo.data.sort_of_clevr.contact_sheet",
    "mi_zoo/data/clevr_2d_programs.py": "mi_zoo.data.clevr_2d.programs",
    "mi_zoo/data/clevr_2d_builder.py": "mi_zoo.data.clevr_2d.builder",
    "mi_zoo/data/clevr_2d_contact_sheet.py": "mi_zoo.data.clevr_2d.contact_sheet",
    "mi_zoo/data/text_corpora.py": "mi_zoo.data.text.corpora",
    "mi_zoo/data/flickr30k_builder.py": "mi_zoo.data.flickr30k.builder",
    "mi_zoo/data/clevr_v1_builder.py": "mi_zoo.data.clevr.builder",
    "mi_zoo/data/lm_dataset.py": "mi_zoo.data.text.lm_dataset",
    "mi_zoo/data/vqa_v2_builder.py": "mi_zoo.data.vqa_v2.builder",
    # Issue 18: a VQA model may hold a feature backbone (image_kind
    # "backbone"), so the backbones moved down to the models' floor.
    "mi_zoo/features/backbones.py": "mi_zoo.models.backbones",
}


def repo_root():
    """Returns the source tree's root, found from this file's real path."""
    here = os.path.dirname(os.path.realpath(__file__))
    root = os.path.dirname(os.path.dirname(here))  # tests/repo/ -> root
    if not os.path.isfile(os.path.join(root, "WORKSPACE")):
        raise RuntimeError(
            "No WORKSPACE next to %s: this test must be able to resolve its "
            "own file to the source tree." % here
        )
    return root


def python_files(root):
    """Repo-relative paths of every .py file under mi_zoo/, sorted."""
    found = []
    for folder, dirs, files in os.walk(os.path.join(root, "mi_zoo")):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        found += [
            os.path.relpath(os.path.join(folder, f), root)
            for f in files
            if f.endswith(".py")
        ]
    return sorted(found)


def module_name(rel_file):
    """ "mi_zoo/layers/film.py" -> "mi_zoo.layers.film" (a package's
    `__init__.py` -> the package)."""
    parts = rel_file[:-3].split(os.sep)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module):
    """ "mi_zoo.layers.film" -> "layers"; the mi_zoo package itself -> ""."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def is_module(root, module):
    path = os.path.join(root, *module.split("."))
    return os.path.isfile(path + ".py") or os.path.isfile(
        os.path.join(path, "__init__.py")
    )


def imported(root, rel_file, node):
    """The first-party (mi_zoo) targets of an import statement.

    `from a.b import c` targets module a.b.c when there is one, else the name
    c of a.b; relative imports are resolved against `rel_file`.

    Returns:
      A list of (module, name): name is None when a module is imported.
    """
    if isinstance(node, ast.Import):
        targets = [(alias.name, None) for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module_name(rel_file).split(".")
            if not rel_file.endswith("__init__.py"):
                package.pop()
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        targets = []
        for alias in node.names:
            full = base + "." + alias.name
            if alias.name != "*" and is_module(root, full):
                targets.append((full, None))
            else:
                targets.append((base, alias.name))
    return [
        (m, n) for m, n in targets if m == "mi_zoo" or m.startswith("mi_zoo.")
    ]


def floor_of(package):
    return ROOT_FLOOR if package == "" else FLOORS.get(package)


def violations(root):
    """Every offence of the tree at `root`: a list of (kind, message).

    kind is "floor" (a higher floor, or anything but core from data,
    training or viz), "private" (a private module or name of another
    package), "alias" (an old import path) or "undeclared" (a package
    without a floor).
    """
    alias_modules = {module_name(f): home for f, home in ALIASES.items()}
    found = []
    for rel_file in python_files(root):
        own = module_name(rel_file)
        package = package_of(own)
        if floor_of(package) is None:
            found.append(
                (
                    "undeclared",
                    "%s: package %r has no floor in "
                    "FLOORS" % (rel_file, package),
                )
            )
            continue
        with open(os.path.join(root, rel_file), encoding="utf-8") as f:
            tree = ast.parse(f.read(), rel_file)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            where = "%s:%d: %s" % (rel_file, node.lineno, ast.unparse(node))
            kinds = set()
            for module, name in imported(root, rel_file, node):
                if alias_modules.get(own) == module:
                    continue  # An alias importing its new home.
                if module in alias_modules and module != own:
                    kinds.add("alias")
                other = package_of(module)
                if other == package:
                    continue
                floor = floor_of(other)
                if floor is None:
                    continue  # Reported once as "undeclared" for its files.
                if floor > floor_of(package) or (
                    package in ONLY_CORE and other not in ("core", "")
                ):
                    kinds.add("floor")
                private = [
                    p
                    for p in module.split(".")[2:] + [name or ""]
                    if p.startswith("_") and not p.startswith("__")
                ]
                if private:
                    kinds.add("private")
            found += [(kind, where) for kind in sorted(kinds)]
    return found


def is_main_guard(node):
    """Whether `node` is exactly `if __name__ == "__main__": main()`: an
    alias of a module run with `python -m` may keep running it (`main` being
    imported from the new home)."""
    return (
        isinstance(node, ast.If)
        and not node.orelse
        and ast.unparse(node.test) == "__name__ == '__main__'"
        and len(node.body) == 1
        and ast.unparse(node.body[0]) == "main()"
    )


def alias_problems(root):
    """Aliases in `ALIASES` that hold more than a docstring, imports of
    their new home and, if they were run with `python -m`, the line that
    runs the new home's `main`."""
    problems = []
    for rel_file, home in sorted(ALIASES.items()):
        path = os.path.join(root, rel_file)
        if not os.path.isfile(path):
            continue  # Not moved yet, or its alias is gone: nothing to check.
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), rel_file)
        body = tree.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            body = body[1:]
        for node in body:
            if is_main_guard(node):
                continue  # `python -m <old path>` still runs its new home.
            if not (
                isinstance(node, ast.ImportFrom)
                and node.module == home
                and not node.level
            ):
                problems.append(
                    "%s:%d: %s (an alias holds only `from %s "
                    "import ...`)"
                    % (rel_file, node.lineno, ast.unparse(node), home)
                )
    return problems


class LayeringTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = repo_root()
        cls.found = violations(cls.root)

    def check(self, kind, explanation):
        offences = [where for k, where in self.found if k == kind]
        if offences:
            self.fail(
                "%d import(s) %s:\n  %s"
                % (len(offences), explanation, "\n  ".join(offences))
            )

    def test_every_package_has_a_floor(self):
        self.check(
            "undeclared",
            "in a package without a floor; add it to "
            "FLOORS in tests/repo/layering_test.py and to the layout "
            "in docs/layout.md",
        )

    def test_no_module_imports_a_higher_floor(self):
        self.check(
            "floor",
            "go up a floor (or, from data, training or viz, "
            "go anywhere but mi_zoo.core); move what they need down "
            "(see docs/layout.md)",
        )

    def test_no_module_imports_a_private_module_of_another_package(self):
        self.check(
            "private",
            "reach a private (_-prefixed) module or name of "
            "another package; give it a public home",
        )

    def test_no_module_imports_an_old_alias(self):
        self.check(
            "alias",
            "use an old import path kept only for code "
            "outside mi_zoo; import the new home (ALIASES)",
        )

    def test_aliases_only_reexport_their_new_home(self):
        problems = alias_problems(self.root)
        self.assertEqual(problems, [], "\n".join(problems))

    def test_floors_are_those_of_the_docs(self):
        with open(
            os.path.join(self.root, "docs", "layout.md"), encoding="utf-8"
        ) as f:
            docs = f.read()
        for package in FLOORS:
            self.assertIn("`mi_zoo.%s`" % package, docs)


if __name__ == "__main__":
    absltest.main()
