"""Guided back-propagation: ReLUs that pass back only positive gradients
where their input was positive.

Springenberg et al., "Striving for Simplicity: The All Convolutional Net",
ICLR 2015 workshop (Section 3.4). For y = max(x, 0) the backward pass of a
ReLU becomes

    ∂L/∂x := 1[x > 0] · max(∂L/∂y, 0)

instead of 1[x > 0] · ∂L/∂y; the forward pass is unchanged. Kim & Zhang
use it through the image CNN when they explain a Hadamard-product model.

    with guided_backprop(model):
        with tf.GradientTape() as tape:
            ...                          # forward: same values as without
        tape.gradient(...)               # backward: guided through ReLUs

`guided_backprop` swaps, for the duration of the `with` block, the
activation of every layer of `model` whose activation is ReLU (Dense, Conv,
... with activation="relu") and the `call` of every `keras.layers.ReLU`
layer without slope, cap or threshold for the guided version. It changes
nothing else and restores the layers on exit, even after an error. Layers
nested in sub-models and wrappers are found too.
"""

import contextlib

import keras
import tensorflow as tf


@tf.custom_gradient
def guided_relu(x):
    """max(x, 0) whose gradient is 1[x > 0] · max(upstream, 0)."""
    y = tf.nn.relu(x)

    def grad(upstream):
        positive = tf.cast(x > 0, upstream.dtype)
        return positive * tf.nn.relu(upstream)

    return y, grad


def _is_relu(activation):
    return (
        activation is keras.activations.relu
        or getattr(activation, "__name__", None) == "relu"
    )


def _plain_relu_layer(layer):
    """A keras.layers.ReLU computing exactly max(x, 0)."""
    if not isinstance(layer, keras.layers.ReLU):
        return False
    config = layer.get_config()
    return (
        not config.get("negative_slope")
        and config.get("max_value") is None
        and not config.get("threshold")
    )


def relu_layers(model):
    """The layers of `model` (nested ones included) that apply a ReLU:
    activation="relu", or a plain `keras.layers.ReLU`."""
    every = model._flatten_layers(  # pylint: disable=protected-access
        include_self=False, recursive=True
    )
    return [
        layer
        for layer in every
        if _is_relu(getattr(layer, "activation", None))
        or _plain_relu_layer(layer)
    ]


@contextlib.contextmanager
def guided_backprop(model):
    """Makes the ReLUs of `model` guided in the backward pass (see module).

    Args:
      model: a `keras.Model` (or layer) whose ReLUs become guided.

    Yields:
      The number of ReLUs made guided.

    Raises:
      ValueError: `model` has no ReLU (guided back-propagation would then
        be plain back-propagation, which is likely a mistake).
    """
    patched = []
    for layer in relu_layers(model):
        if _plain_relu_layer(layer):
            patched.append((layer, "call", None))
            layer.call = lambda inputs, *args, **kwargs: guided_relu(inputs)
        else:
            patched.append((layer, "activation", layer.activation))
            layer.activation = guided_relu
    if not patched:
        raise ValueError(
            f"Model {model.name!r} has no ReLU to guide: no "
            "layer with activation='relu' and no "
            "keras.layers.ReLU."
        )
    try:
        yield len(patched)
    finally:
        for layer, attribute, original in reversed(patched):
            if attribute == "activation":
                layer.activation = original
            else:
                del layer.call  # Back to the class's method.
