"""Install mi_zoo.

  pip install -e ".[cpu,test]"   # CPU machines (tensorflow-cpu)
  pip install -e ".[gpu,test]"   # CUDA machines (tensorflow[and-cuda])
  pip install -e ".[cpu,rl]"     # + MiniGrid for the multitask_rl binary

The base install names no TensorFlow wheel on purpose: tensorflow-cpu and the
CUDA build are separate PyPI distributions that both provide `tensorflow`, so
the extras pick one and a user with either already installed keeps it.
"""

import setuptools

TF_RANGE = ">=2.21,<2.22"

setuptools.setup(
    name="mi_zoo",
    version="0.1.0",
    description=(
        "A TensorFlow/Keras model zoo built on multiplicative interactions."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["mi_zoo", "mi_zoo.*"]),
    # The shipped presets (mi_zoo/presets/<name>/: model, codec, config and
    # metadata; docs/presets.md), data files of the mi_zoo package.
    package_data={"mi_zoo": ["presets/*/*.json", "presets/*/*.keras"]},
    install_requires=[
        "keras>=3.10,<4",
        "dm-sonnet>=2.0.2,<3",
        "absl-py>=2.1,<3",
        "numpy>=1.26,<3",
        "tensorboard" + TF_RANGE,
        "tensorflow-datasets>=4.9.7,<5",
        # TFDS imports it when preparing a builder but does not declare it.
        "importlib_resources>=6,<8",
        "h5py>=3.10,<4",  # bottom-up features in HDF5
        "pillow>=10,<14",  # drawing generated images and contact sheets
    ],
    extras_require={
        "cpu": ["tensorflow-cpu" + TF_RANGE],
        "gpu": ["tensorflow[and-cuda]" + TF_RANGE],
        # ruff is pinned: the formatter's output depends on its version
        # (ruff.toml; .ci/run checks the tree).
        "test": ["pytest>=8,<10", "pytest-xdist>=3.5,<4", "ruff==0.16.9"],
        # multitask_rl: MiniGrid environments (install and run offline).
        "rl": ["minigrid>=3.0,<4", "gymnasium>=1.0,<2"],
        # benchmarks/reference_comparison.py only: the PyTorch reference
        # implementations. Never a library dependency.
        "bench": ["torch>=2.4"],
    },
    entry_points={
        "console_scripts": [
            "mi-zoo-vqa = mi_zoo.experiments.vqa:run",
            "mi-zoo-matching = mi_zoo.experiments.matching:run",
            "mi-zoo-lm = mi_zoo.experiments.lm:run",
            "mi-zoo-explain = mi_zoo.experiments.explain:run",
            "mi-zoo-predict = mi_zoo.experiments.predict:run",
            "mi-zoo-evaluate = mi_zoo.experiments.evaluate:run",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
