"""Moved to `mi_zoo.experiments.flags`: the binaries' flags live with the
binaries, made from the fields of `TrainConfig`. This alias stays for one
release."""

from mi_zoo.experiments.flags import *  # noqa: F401,F403  pylint: disable=wildcard-import
from mi_zoo.experiments.flags import as_flag_message  # noqa: F401
from mi_zoo.experiments.flags import define_config_flags  # noqa: F401
from mi_zoo.experiments.flags import is_user_error  # noqa: F401
from mi_zoo.experiments.flags import main_calling  # noqa: F401
from mi_zoo.experiments.flags import make_strategy  # noqa: F401
from mi_zoo.experiments.flags import parse_flags  # noqa: F401
from mi_zoo.experiments.flags import run_binary  # noqa: F401
from mi_zoo.experiments.flags import set_defaults  # noqa: F401
from mi_zoo.experiments.flags import settings  # noqa: F401
from mi_zoo.experiments.flags import train_config  # noqa: F401
from mi_zoo.experiments.flags import user_error_exit  # noqa: F401
