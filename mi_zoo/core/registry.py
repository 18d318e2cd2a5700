"""Registries of builders: things are chosen by name, not by if/elif.

Used for the models (`mi_zoo.models`), the optimizers and strategies
(`mi_zoo.training`), the datasets (`mi_zoo.data`) and the RL tasks and
contexts (`mi_zoo.rl`).

An entry may carry its sizes: named sets of builder arguments, written once
beside the builder (`register(name, sizes=...)`) and chosen by
`build(name, ..., size=...)`. The model zoos give every model a "small" size
(for CPUs) and a "paper" size (the paper's, the builder's defaults).
"""

import inspect
from typing import Callable
from typing import Dict
from typing import Mapping
from typing import Optional
from typing import Tuple


class Registry:
    """Maps names to builder functions, each with its sizes (if any).

    >>> models = Registry("toy model")
    >>> @models.register("double")
    ... def build_double(factor=2):
    ...     return lambda x: factor * x
    >>> models.build("double")(3)
    6
    >>> models.names()
    ('double',)

    With sizes: `build` starts from the size's arguments and applies the
    overrides on top.

    >>> @models.register("scale", sizes={"small": {"factor": 3}, "paper": {}})
    ... def build_scale(offset, factor=10):
    ...     return lambda x: factor * x + offset
    >>> models.build("scale", 1, size="small")(2)
    7
    >>> models.build("scale", 1, size="paper")(2)
    21
    >>> models.build("scale", 1, size="small", factor=5)(2)
    11
    >>> models.sizes("scale")
    ('paper', 'small')
    >>> models.arguments("scale", "small", factor=4)
    {'factor': 4}

    Args:
      kind: what the entries are, for the error messages ("VQA model").
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._builders: Dict[str, Callable] = {}
        self._sizes: Dict[str, Dict[str, Dict[str, object]]] = {}

    def register(
        self,
        name: str,
        sizes: Optional[Mapping[str, Mapping[str, object]]] = None,
    ):
        """Decorator registering `builder` under `name` (once).

        Args:
          name: the entry's name.
          sizes: {size name: {builder argument: value}}, or None for an
            entry without sizes. Each argument must be a keyword argument
            of the builder.

        Raises:
          ValueError: if `name` is already registered, or a size names an
            argument the builder does not take.
        """

        def decorator(builder):
            if name in self._builders:
                raise ValueError(
                    f"{self.kind} {name!r} is already registered."
                )
            if sizes is not None:
                accepted = _keyword_arguments(builder)
                for size, arguments in sizes.items():
                    unknown = sorted(set(arguments) - set(accepted))
                    if unknown:
                        raise ValueError(
                            f"Size {size!r} of {self.kind} {name!r} sets "
                            f"arguments the builder does not take: {unknown};"
                            f" it takes {sorted(accepted)}."
                        )
                self._sizes[name] = {
                    size: dict(arguments) for size, arguments in sizes.items()
                }
            self._builders[name] = builder
            return builder

        return decorator

    def get(self, name: str) -> Callable:
        if name not in self._builders:
            raise ValueError(
                f"Unknown {self.kind} {name!r}; registered: {self.names()}."
            )
        return self._builders[name]

    def sizes(self, name: str) -> Tuple[str, ...]:
        """The size names of the entry `name` (() if it has none)."""
        self.get(name)
        return tuple(sorted(self._sizes.get(name, {})))

    def arguments(
        self, name: str, size: Optional[str] = None, **overrides
    ) -> Dict[str, object]:
        """The builder arguments of `name` at `size`, then `overrides`.

        Args:
          name: a registered name.
          size: one of `sizes(name)`, or None for the builder's defaults
            (only the overrides).
          **overrides: builder arguments that replace the size's.

        Raises:
          ValueError: on an unknown name, or a size the entry does not have
            (listing its sizes).
        """
        self.get(name)
        arguments = {}
        if size is not None:
            known = self._sizes.get(name, {})
            if size not in known:
                raise ValueError(
                    f"Unknown size of {self.kind} {name!r}; its sizes are "
                    f"{tuple(sorted(known))}, got size={size!r}."
                )
            arguments.update(known[size])
        arguments.update(overrides)
        return arguments

    def build(self, name: str, *args, size: Optional[str] = None, **overrides):
        """Calls the builder registered under `name`.

        Args:
          name: a registered name.
          *args: the builder's positional arguments (a model's spec).
          size: one of `sizes(name)`: the builder is called with that size's
            arguments; None (the default) keeps the builder's defaults.
          **overrides: builder arguments, over the size's.

        Raises:
          ValueError: on an unknown name or size (see `arguments`).
        """
        return self.get(name)(*args, **self.arguments(name, size, **overrides))

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
        known = _keyword_arguments(self.get(name))
        parsed = {}
        for item in filter(None, (i.strip() for i in text.split(","))):
            key, sep, value = (part.strip() for part in item.partition("="))
            if not sep or not key:
                raise ValueError(
                    f"Hyper-parameter {item!r} of {self.kind} "
                    f"{name!r} is not of the form key=value."
                )
            if key not in known:
                raise ValueError(
                    f"{self.kind} {name!r} has no hyper-parameter "
                    f"{key!r}; it takes {sorted(known)}."
                )
            parsed[key] = _convert(value, known[key], key)
        return parsed

    def names(self):
        return tuple(sorted(self._builders))

    def __contains__(self, name):
        return name in self._builders


def _keyword_arguments(builder) -> Dict[str, object]:
    """{argument: default} of the builder's arguments that have one."""
    params = inspect.signature(builder).parameters
    return {
        k: p.default
        for k, p in params.items()
        if p.default is not inspect.Parameter.empty
    }


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
        raise ValueError(
            f"Hyper-parameter {key}={value!r} must be a "
            f"{type(default).__name__}."
        ) from None
    if default is None:  # Untyped: a number if it reads as one.
        for cast in (int, float):
            try:
                return cast(value)
            except ValueError:
                pass
    return value
