"""pytest set-up: split the CPU into two logical devices before any TF op.

MirroredStrategy tests need two devices, and TensorFlow fixes its devices at
the first op, so this runs at collection time, before the test modules are
imported. Under Bazel each test is its own process and calls split_cpu
itself.

Under another Keras backend (`KERAS_BACKEND=jax` or `torch`, the layer and
fusion suites of `.ci/backends`), TensorFlow need not be installed and nothing
here imports it.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

if keras.backend.backend() == "tensorflow":
    from mi_zoo.training import devices

    devices.split_cpu(2)
