"""pytest set-up: split the CPU into two logical devices before any TF op.

MirroredStrategy tests need two devices, and TensorFlow fixes its devices at
the first op, so this runs at collection time, before the test modules are
imported. Under Bazel each test is its own process and calls split_cpu
itself.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mi_zoo.training import devices  # noqa: E402

devices.split_cpu(2)
