"""Checks that the Bazel BUILD files cover every Python file of the repo.

  * every module under mi_zoo/ (each `__init__.py` included) is in the srcs of
    a py_library in the BUILD file of its own folder;
  * every tests/**/*_test.py is the srcs of a py_test of the same name in the
    BUILD file of its folder;
  * every other Python file under tests/ (not conftest.py, which is pytest's,
    nor an empty `__init__.py`) is in the srcs of a py_library;
  * every Python file under benchmarks/ is in a py_binary or py_library;
  * every file named in srcs exists, and no file is in two targets (but a
    py_binary outside benchmarks/ may run a module of a py_library);
  * every first-party import (mi_zoo, tests, benchmarks) of a file is a dep of
    its target.

The BUILD files are parsed textually, in the buildifier layout that
tools/bazel/gen_build.py writes: a rule call starts at the start of a line
and ends at a ")" alone at the start of a line.

It runs under pytest and under Bazel. Under Bazel, the file that would be
missing from a BUILD file is by definition no input of any target, so the test
reads the source tree itself: its own runfiles entry is a symlink into the
source tree, and the BUILD target is tagged "external" so that Bazel never
serves a cached result for it.
"""

import ast
import os
import re
import shutil
import tempfile

from absl.testing import absltest

FIRST_PARTY = ("mi_zoo", "tests", "benchmarks")
RULES = ("py_library", "py_test", "py_binary")
_RULE_RE = re.compile(r"^(%s)\(\n(.*?)^\)$" % "|".join(RULES), re.M | re.S)
_NAME_RE = re.compile(r'^\s*name\s*=\s*"([^"]+)"', re.M)
_STRING_RE = re.compile(r'"([^"]*)"')


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


def _list_attr(body, attr):
    """Returns the strings of `attr = [...]` in a rule's body ([] if absent)."""
    match = re.search(r"^\s*%s\s*=\s*\[(.*?)\]" % attr, body, re.M | re.S)
    if not match:
        return []
    values = re.sub(r"#[^\n]*", "", match.group(1))
    return _STRING_RE.findall(values)


def parse_build(path):
    """Returns [(kind, name, srcs, deps)] for the Python rules of a BUILD."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    rules = []
    for match in _RULE_RE.finditer(text):
        kind, body = match.group(1), match.group(2)
        name = _NAME_RE.search(body)
        rules.append(
            (
                kind,
                name.group(1) if name else None,
                _list_attr(body, "srcs"),
                _list_attr(body, "deps"),
            )
        )
    # A rule call the regex did not take (another layout) is an error too.
    calls = len(re.findall(r"^\s*(?:%s)\(" % "|".join(RULES), text, re.M))
    if calls != len(rules):
        rules.append(("unparsed", None, [], []))
    return rules


def _label(package, dep):
    """Returns `dep`, seen from `package`, as a full //pkg:name label."""
    if dep.startswith(":"):
        return "//%s%s" % (package, dep)
    if dep.startswith("//") and ":" not in dep:
        return "%s:%s" % (dep, dep.rsplit("/", 1)[-1])
    return dep


def _module_file(root, module):
    path = os.path.join(*module.split("."))
    for candidate in (path + ".py", os.path.join(path, "__init__.py")):
        if os.path.isfile(os.path.join(root, candidate)):
            return candidate
    return None


def first_party_imports(root, rel_file):
    """Returns the repo-relative files of the first-party modules imported."""
    with open(os.path.join(root, rel_file), encoding="utf-8") as f:
        tree = ast.parse(f.read(), rel_file)
    files = set()
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif (
            isinstance(node, ast.ImportFrom) and node.module and not node.level
        ):
            for alias in node.names:
                sub = node.module + "." + alias.name
                modules.append(sub if _module_file(root, sub) else node.module)
        for module in modules:
            if module.split(".")[0] in FIRST_PARTY:
                found = _module_file(root, module)
                if found:
                    files.add(found)
    files.discard(rel_file)
    return files


def python_files(root):
    """Returns the repo-relative Python files that need a Bazel target."""
    found = []
    for top in FIRST_PARTY:
        for folder, dirs, names in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(
                d for d in dirs if d != "__pycache__" and not d.startswith(".")
            )
            for name in sorted(names):
                if not name.endswith(".py") or name == "conftest.py":
                    continue
                path = os.path.join(folder, name)
                if (
                    top == "tests"
                    and name == "__init__.py"
                    and not os.path.getsize(path)
                ):
                    continue
                found.append(os.path.relpath(path, root))
    return found


def find_problems(root):
    """Returns a list of what is wrong with the BUILD files under `root`."""
    problems = []
    owner = {}  # repo-relative file -> (kind, package, name, deps)
    packages = set()
    for top in FIRST_PARTY:
        for folder, dirs, names in os.walk(os.path.join(root, top)):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            if "BUILD" not in names:
                continue
            package = os.path.relpath(folder, root)
            packages.add(package)
            for kind, name, srcs, deps in parse_build(
                os.path.join(folder, "BUILD")
            ):
                if kind == "unparsed" or not name:
                    problems.append(
                        "%s/BUILD: a Python rule is not in the layout this "
                        "test parses (see its docstring)" % package
                    )
                    continue
                for src in srcs:
                    rel = os.path.join(package, src)
                    if not os.path.isfile(os.path.join(root, rel)):
                        problems.append(
                            "//%s:%s lists %s, which does not "
                            "exist" % (package, name, rel)
                        )
                    elif kind == "py_binary" and not package.startswith(
                        "benchmarks"
                    ):
                        continue  # A runnable twin of a py_library's module.
                    elif rel in owner:
                        problems.append(
                            "%s is in the srcs of both //%s:%s "
                            "and //%s:%s"
                            % (
                                rel,
                                owner[rel][1],
                                owner[rel][2],
                                package,
                                name,
                            )
                        )
                    else:
                        owner[rel] = (
                            kind,
                            package,
                            name,
                            {_label(package, d) for d in deps},
                        )

    for rel in python_files(root):
        folder, base = os.path.split(rel)
        top = rel.split(os.sep)[0]
        if rel not in owner:
            if folder not in packages:
                problems.append("%s has no BUILD file in %s/" % (rel, folder))
            else:
                problems.append(
                    "%s is in no target of %s/BUILD" % (rel, folder)
                )
            continue
        kind, package, name, deps = owner[rel]
        if top == "tests" and base.endswith("_test.py"):
            wanted = ("py_test",)
            if name != base[:-3]:
                problems.append(
                    "the py_test of %s is named %r, not %r"
                    % (rel, name, base[:-3])
                )
        elif top == "benchmarks":
            wanted = ("py_binary", "py_library")
        else:
            wanted = ("py_library",)
        if kind not in wanted:
            problems.append(
                "%s is in a %s (//%s:%s), not a %s"
                % (rel, kind, package, name, " or ".join(wanted))
            )
        for imported in sorted(first_party_imports(root, rel)):
            if imported not in owner:
                continue  # Reported above as a file without a target.
            _, dep_package, dep_name, _ = owner[imported]
            dep = "//%s:%s" % (dep_package, dep_name)
            if (dep_package, dep_name) != (package, name) and dep not in deps:
                problems.append(
                    "//%s:%s imports %s but lacks the dep %s"
                    % (package, name, imported, dep)
                )
    return problems


class RepoBuildFilesTest(absltest.TestCase):
    def test_every_python_file_has_its_target(self):
        root = repo_root()
        self.assertNotEmpty(python_files(root))
        problems = find_problems(root)
        if problems:
            self.fail(
                "BUILD files out of date; `python3 tools/bazel/gen_build.py "
                "--write DIR` writes or updates a folder's BUILD file:\n  "
                + "\n  ".join(problems)
            )


class FindProblemsTest(absltest.TestCase):
    """The checker itself, on small made-up trees."""

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.root)
        self.write("WORKSPACE", "")
        self.write("mi_zoo/__init__.py", "")
        self.write("mi_zoo/a.py", "X = 1\n")
        self.write("tests/__init__.py", "")
        self.write("tests/a_test.py", "from mi_zoo import a\n")
        self.write("tests/conftest.py", "import mi_zoo.a\n")
        self.write(
            "mi_zoo/BUILD",
            """\
py_library(
    name = "mi_zoo",
    srcs = ["__init__.py"],
)

py_library(
    name = "a",
    srcs = ["a.py"],
    deps = [
        # pip: numpy
    ],
)
""",
        )
        self.write(
            "tests/BUILD",
            """\
py_test(
    name = "a_test",
    srcs = ["a_test.py"],
    deps = ["//mi_zoo:a"],
)
""",
        )

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def test_complete_tree_passes(self):
        self.assertEmpty(find_problems(self.root))

    def test_module_without_target_fails(self):
        self.write("mi_zoo/b.py", "")
        self.assertEqual(
            find_problems(self.root),
            ["mi_zoo/b.py is in no target of mi_zoo/BUILD"],
        )

    def test_folder_without_build_fails(self):
        self.write("mi_zoo/sub/__init__.py", "")
        self.assertEqual(
            find_problems(self.root),
            ["mi_zoo/sub/__init__.py has no BUILD file in mi_zoo/sub/"],
        )

    def test_test_without_py_test_fails(self):
        self.write("tests/b_test.py", "")
        self.assertEqual(
            find_problems(self.root),
            ["tests/b_test.py is in no target of tests/BUILD"],
        )

    def test_test_in_a_py_library_fails(self):
        self.write("tests/b_test.py", "")
        with open(os.path.join(self.root, "tests/BUILD"), "a") as f:
            f.write(
                '\npy_library(\n    name = "b_test",\n'
                '    srcs = ["b_test.py"],\n)\n'
            )
        self.assertEqual(
            find_problems(self.root),
            [
                "tests/b_test.py is in a py_library (//tests:b_test), not a "
                "py_test"
            ],
        )

    def test_py_binary_may_share_a_module_of_a_py_library(self):
        with open(os.path.join(self.root, "mi_zoo/BUILD"), "a") as f:
            f.write(
                '\npy_binary(\n    name = "a_main",\n'
                '    srcs = ["a.py"],\n    main = "a.py",\n'
                '    deps = [":a"],\n)\n'
            )
        self.assertEmpty(find_problems(self.root))

    def test_one_line_rule_is_rejected(self):
        with open(os.path.join(self.root, "mi_zoo/BUILD"), "a") as f:
            f.write('\npy_library(name = "c", srcs = ["a.py"])\n')
        self.assertEqual(
            find_problems(self.root),
            [
                "mi_zoo/BUILD: a Python rule is not in the layout "
                "this test parses (see its docstring)"
            ],
        )

    def test_missing_first_party_dep_fails(self):
        self.write(
            "tests/BUILD",
            'py_test(\n    name = "a_test",\n    srcs = ["a_test.py"],\n)\n',
        )
        self.assertEqual(
            find_problems(self.root),
            [
                "//tests:a_test imports mi_zoo/a.py but lacks the "
                "dep //mi_zoo:a"
            ],
        )

    def test_stale_src_fails(self):
        os.remove(os.path.join(self.root, "mi_zoo/a.py"))
        self.write("tests/a_test.py", "")
        self.assertEqual(
            find_problems(self.root),
            ["//mi_zoo:a lists mi_zoo/a.py, which does not exist"],
        )

    def test_empty_tests_init_and_conftest_need_no_target(self):
        self.assertNotIn("tests/__init__.py", python_files(self.root))
        self.assertNotIn("tests/conftest.py", python_files(self.root))
        self.assertIn("mi_zoo/__init__.py", python_files(self.root))


if __name__ == "__main__":
    absltest.main()
