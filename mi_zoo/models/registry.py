"""A registry of model builders: models are chosen by name, not by if/elif."""

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

    def names(self):
        return tuple(sorted(self._builders))

    def __contains__(self, name):
        return name in self._builders
