"""Running the project's binaries and benchmark scripts as users do:
`python -m <module> <flags>` in a fresh process, from the repository root.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env():
    """The environment of a user's shell, without TensorFlow's INFO and
    WARNING logs and without a TF_CONFIG of the test's own process."""
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    environment.pop("TF_CONFIG", None)
    return environment


def run_module(module, *argv, timeout=600):
    """`python -m module *argv` from the repository root; returns the
    `subprocess.CompletedProcess` (text stdout and stderr, any exit
    status)."""
    return subprocess.run(
        [sys.executable, "-m", module, *argv],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
