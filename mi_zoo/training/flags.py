"""Moved to `mi_zoo.experiments.flags`: the binaries' flags live with the
binaries, made from the fields of `TrainConfig`. This alias stays for one
release."""

from mi_zoo.experiments.flags import *  # noqa: F401,F403  pylint: disable=wildcard-import
from mi_zoo.experiments.flags import (  # noqa: F401
    as_flag_message, define_config_flags, is_user_error, main_calling,
    make_strategy, parse_flags, run_binary, set_defaults, settings,
    train_config, user_error_exit)
