"""Writes Sonnet-style BUILD files from the imports of the Python files.

    python3 tools/bazel/gen_build.py mi_zoo/sonnet          # print the BUILD
    python3 tools/bazel/gen_build.py --write tests/sonnet   # write or update it

One target per file: `py_test` for `*_test.py`, `py_library` for every other
module (a package's `__init__.py` becomes the target named after its folder;
an empty one under tests/ gets none), `py_binary` for the runnable files
under benchmarks/, and a `NAME_main` py_binary beside the py_library of a
module under mi_zoo/ that has an `if __name__ == "__main__":` block.
First-party deps (mi_zoo, tests, benchmarks) come from the file's imports;
third-party imports become `# pip: NAME` comments. A dep that the imports
do not show (code run by exec, say) needs a `# keep` comment on its line.

Updating an existing BUILD keeps, for each target that it regenerates, the
comment lines above it and its other attributes (size, shard_count, tags,
data, ...), and keeps as they are the targets it would not generate (a
py_binary of your own, say). tests/build_files_test.py checks the result.
"""

import argparse
import ast
import os
import re
import sys

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
FIRST_PARTY = ("mi_zoo", "tests", "benchmarks")
PIP_NAMES = {
    "PIL": "pillow",
    "absl": "absl-py",
    "gymnasium": "gymnasium",
    "h5py": "h5py",
    "keras": "keras",
    "minigrid": "minigrid",
    "numpy": "numpy",
    "sonnet": "dm-sonnet",
    "tensorboard": "tensorboard",
    "tensorflow": "tensorflow",
    "tensorflow_datasets": "tensorflow-datasets",
    "torch": "torch",
}
HEADER = (
    'package(default_visibility = ["//visibility:public"])\n\n'
    'licenses(["notice"])\n'
)
_RULE_RE = re.compile(r"((?:^#[^\n]*\n)*)^(\w+)\(\n(.*?)^\)\n?", re.M | re.S)
_ATTR_RE = re.compile(r"^    (\w+) = ", re.M)
_GENERATED_ATTRS = ("name", "srcs", "deps", "main")
_MAIN_RE = re.compile(r"^if __name__ == .__main__.:", re.M)


def module_file(module):
    """Returns the repo-relative file of a first-party module, or None."""
    path = os.path.join(*module.split("."))
    for candidate in (path + ".py", os.path.join(path, "__init__.py")):
        if os.path.isfile(os.path.join(ROOT, candidate)):
            return candidate
    return None


def label_of(rel_file, from_dir):
    """Returns the label of the target owning a repo-relative file."""
    folder, base = os.path.split(rel_file)
    name = os.path.basename(folder) if base == "__init__.py" else base[:-3]
    if folder == from_dir:
        return ":" + name
    if os.path.basename(folder) == name:
        return "//" + folder
    return "//%s:%s" % (folder, name)


def imports_of(path):
    """Returns (first-party module files, pip names) imported by a file."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    files, pips = set(), set()
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif (
            isinstance(node, ast.ImportFrom) and node.module and not node.level
        ):
            for alias in node.names:
                sub = node.module + "." + alias.name
                modules.append(sub if module_file(sub) else node.module)
        for module in modules:
            top = module.split(".")[0]
            if top in FIRST_PARTY:
                found = module_file(module)
                if found:
                    files.add(found)
            elif top in PIP_NAMES:
                pips.add(PIP_NAMES[top])
    return files, pips


def _dep_key(label):
    return (not label.startswith(":"), label)


def generated_rules(rel_dir):
    """Returns [(kind, name, src, deps, pips)] for the files of a folder."""
    folder = os.path.join(ROOT, rel_dir)
    names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))
    names.sort(key=lambda n: n != "__init__.py")
    top = rel_dir.split(os.sep)[0]
    rules = []
    for name in names:
        if name == "conftest.py":
            continue
        rel = os.path.join(rel_dir, name)
        files, pips = imports_of(os.path.join(ROOT, rel))
        files.discard(rel)
        deps = {label_of(f, rel_dir) for f in files}
        if name == "__init__.py":
            if top == "tests" and not os.path.getsize(os.path.join(ROOT, rel)):
                continue
            parent = os.path.dirname(rel_dir)
            if parent and module_file(parent.replace(os.sep, ".")):
                deps.add(
                    label_of(os.path.join(parent, "__init__.py"), rel_dir)
                )
            rules.append(
                ("py_library", os.path.basename(rel_dir), name, deps, pips)
            )
            continue
        if top == "tests" and name.endswith("_test.py"):
            rules.append(("py_test", name[:-3], name, deps, pips))
            continue
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            runnable = _MAIN_RE.search(f.read())
        if top == "benchmarks" and runnable:
            rules.append(("py_binary", name[:-3], name, deps, pips))
        else:
            rules.append(("py_library", name[:-3], name, deps, pips))
            if top == "mi_zoo" and runnable:
                # `bazel run //pkg:NAME_main -- --flags` runs the module.
                rules.append(
                    (
                        "py_binary",
                        name[:-3] + "_main",
                        name,
                        {":" + name[:-3]},
                        set(),
                    )
                )
    return rules


def _existing_rules(text):
    """Returns {name: (comment lines, {attr: text})} of a BUILD's rules."""
    rules = {}
    for match in _RULE_RE.finditer(text):
        comments, body = match.group(1), match.group(3)
        starts = [m.start() for m in _ATTR_RE.finditer(body)] + [len(body)]
        attrs = {}
        for begin, end in zip(starts, starts[1:]):
            chunk = body[begin:end].rstrip("\n")
            attrs[_ATTR_RE.match(chunk).group(1)] = chunk
        name = re.search(r'"([^"]+)"', attrs.get("name", ""))
        if name:
            rules[name.group(1)] = (comments, attrs, match.group(0))
    return rules


def render(kind, name, src, deps, pips, comments="", kept=None):
    kept_deps = (kept or {}).get("deps")
    kept = {a: t for a, t in (kept or {}).items() if a not in _GENERATED_ATTRS}
    lines = ["%s(" % kind, '    name = "%s",' % name]
    # Buildifier's order: size, timeout, testonly, srcs, the rest, deps.
    early = [a for a in ("size", "timeout", "testonly") if a in kept]
    lines += [kept.pop(a) for a in early]
    lines.append('    srcs = ["%s"],' % src)
    if kind == "py_binary":
        kept["main"] = '    main = "%s",' % src
    lines += [kept[a] for a in sorted(kept)]
    # A dep that the imports do not show stays if its line says "# keep".
    kept_deps = [
        line.strip()
        for line in (kept_deps or "").splitlines()
        if "# keep" in line and line.strip().startswith('"')
    ]
    kept_deps = [d for d in kept_deps if d.split('"')[1] not in deps]
    if deps or pips or kept_deps:
        lines.append("    deps = [")
        entries = ['"%s",' % d for d in deps] + kept_deps
        lines += [
            "        " + e
            for e in sorted(entries, key=lambda e: _dep_key(e.split('"')[1]))
        ]
        lines += ["        # pip: %s" % p for p in sorted(pips)]
        lines.append("    ],")
    lines.append(")")
    return comments + "\n".join(lines) + "\n"


def build_file(rel_dir):
    """Returns the new text of a folder's BUILD file."""
    path = os.path.join(ROOT, rel_dir, "BUILD")
    old = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
    existing = _existing_rules(old)
    blocks, generated = [], set()
    for kind, name, src, deps, pips in generated_rules(rel_dir):
        comments, attrs, _ = existing.get(name, ("", {}, ""))
        blocks.append(render(kind, name, src, deps, pips, comments, attrs))
        generated.add(name)
    blocks += [
        raw if raw.endswith("\n") else raw + "\n"
        for name, (_, _, raw) in existing.items()
        if name not in generated
    ]
    header = (
        old[: _RULE_RE.search(old).start()].rstrip("\n") + "\n"
        if (existing)
        else HEADER
    )
    return header + "".join("\n" + b for b in blocks)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", help="repo-relative folders")
    parser.add_argument(
        "--write",
        action="store_true",
        help="write the BUILD files instead of printing them",
    )
    args = parser.parse_args(argv)
    for rel_dir in args.dirs:
        rel_dir = os.path.normpath(rel_dir)
        text = build_file(rel_dir)
        path = os.path.join(ROOT, rel_dir, "BUILD")
        if args.write:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            sys.stdout.write("# ---- %s\n%s" % (path, text))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
