"""Base class holding the Dense-style weight arguments of the mi_zoo layers.

Public: the fusion layers (`mi_zoo.fusion`) subclass it too.
"""

import keras


class WeightedLayer(keras.layers.Layer):
    """A layer with Dense-style kernel/bias arguments.

    Stores `use_bias`, `activation` and the kernel and bias initializers,
    regularizers and constraints under their own names, returns them from
    `get_config`, and creates weights with `add_kernel` / `add_bias`.
    Subclasses add their own arguments to `get_config`; those without an
    output activation set `has_activation = False`, and then refuse one.
    """

    has_activation = True

    def __init__(
        self,
        use_bias=True,
        activation=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if activation is not None and not self.has_activation:
            raise ValueError(
                f"{type(self).__name__} has no output activation, got "
                f"activation={activation!r}."
            )
        if not isinstance(use_bias, bool):
            raise ValueError(
                f"`use_bias` must be a bool, got use_bias={use_bias!r}."
            )
        self.use_bias = use_bias
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)

    def add_kernel(self, name, shape, initializer=None):
        """Adds a kernel weight; `initializer` overrides kernel_initializer."""
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=initializer or self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )

    def add_bias(self, name, shape, initializer=None):
        """Adds a bias weight when `use_bias`, else returns None."""
        if not self.use_bias:
            return None
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=initializer or self.bias_initializer,
            regularizer=self.bias_regularizer,
            constraint=self.bias_constraint,
        )

    def get_config(self):
        config = super().get_config()
        ser = keras.saving.serialize_keras_object
        config.update(
            {
                "use_bias": self.use_bias,
                "kernel_initializer": ser(self.kernel_initializer),
                "bias_initializer": ser(self.bias_initializer),
                "kernel_regularizer": ser(self.kernel_regularizer),
                "bias_regularizer": ser(self.bias_regularizer),
                "activity_regularizer": ser(self.activity_regularizer),
                "kernel_constraint": ser(self.kernel_constraint),
                "bias_constraint": ser(self.bias_constraint),
            }
        )
        if self.has_activation:
            config["activation"] = keras.activations.serialize(self.activation)
        return config
