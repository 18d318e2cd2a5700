"""Registries of builders: things are chosen by name, not by if/elif.

Used for the models (`mi_zoo.models`), the optimizers and strategies
(`mi_zoo.training`), the datasets (`mi_zoo.data`) and the RL tasks and
contexts (`mi_zoo.rl`).
"""

import inspect
from typing import Callable, Dict


class Registry:
    """Maps names to builder functions.

    >>> models = Registry("toy model")
    >>> @models.register("double")
    ... def build_double(factor=2):
    ...     return lambda x: factor * x
    >>> models.build("double")(3)
    6
    >>> models.names()
    ('double',)
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._builders: Dict[str, Callable] = {}

    def register(self, name: str):
        """Decorator registering `builder` under `name` (once)."""

        def decorator(builder):
            if name in self._builders:
                raise ValueError(f"{self.kind} {name!r} is already registered.")
            self._builders[name] = builder
            return builder

        return decorator

    def get(self, name: str) -> Callable:
        if name not in self._builders:
            raise ValueError(
                f"Unknown {self.kind} {name!r}; registered: {self.names()}.")
        return self._builders[name]

    def build(self, name: str, *args, **kwargs):
        """Calls the builder registered under `name`."""
        return self.get(name)(*args, **kwargs)

    def parse_hyperparameters(self, name: str, text: str) -> Dict[str, object]:
        """Parses "key=value,key=value" into keyword arguments of the builder
        registered under `name`, each converted to the type of the
        argument's default (int, float, bool, str; "none" for None).

        >>> models = Registry("toy model")
        >>> @models.register("mlp")
        ... def build_mlp(spec, hidden=64, dropout=0.0, cell="gru"):
        ...     pass
        >>> models.parse_hyperparameters("mlp", "hidden=128, dropout=0.5")
        {'hidden': 128, 'dropout': 0.5}

        Raises:
          ValueError: on an unknown key (listing the builder's arguments),
            a malformed item, or a value of the wrong type.
        """
        params = inspect.signature(self.get(name)).parameters
        known = {k: p.default for k, p in params.items()
                 if p.default is not inspect.Parameter.empty}
        parsed = {}
        for item in filter(None, (i.strip() for i in text.split(","))):
            key, sep, value = (part.strip() for part in item.partition("="))
            if not sep or not key:
                raise ValueError(f"Hyper-parameter {item!r} of {self.kind} "
                                 f"{name!r} is not of the form key=value.")
            if key not in known:
                raise ValueError(f"{self.kind} {name!r} has no hyper-parameter "
                                 f"{key!r}; it takes {sorted(known)}.")
            parsed[key] = _convert(value, known[key], key)
        return parsed

    def names(self):
        return tuple(sorted(self._builders))

    def __contains__(self, name):
        return name in self._builders


def _convert(value: str, default, key: str):
    """`value` as the type of `default`."""
    if value.lower() == "none":
        return None
    try:
        if isinstance(default, bool):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return value.lower() in ("true", "1")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except ValueError:
        raise ValueError(f"Hyper-parameter {key}={value!r} must be a "
                         f"{type(default).__name__}.") from None
    if default is None:  # Untyped: a number if it reads as one.
        for cast in (int, float):
            try:
                return cast(value)
            except ValueError:
                pass
    return value
