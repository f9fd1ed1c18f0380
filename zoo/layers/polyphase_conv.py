"""Strided 2-D convolutions to or from a few channels, computed phase by phase.

A transposed convolution of stride s that writes few channels (an image generator's output
layer: 1 or 3) runs in oneDNN many times slower per operation than one writing 64: its kernels
vectorise over output channels. So does the input gradient of a strided convolution that reads
few channels (a discriminator's input layer), which is the same operation. Writing one
channel, Keras's layer takes as long as writing sixteen (docs/results/polyphase_conv.md, with
the DCGAN step's figures).

Output pixel `s*m + p` of a transposed convolution (per axis) sums input pixels `m + a` for
a few neighbour offsets `a`, each through kernel tap `p + pad - s*a`. So each of the s*s
output phases is an ordinary stride-1 convolution of the input with its own small kernel, and
the s*s phases side by side, as channels, are one convolution with s*s times the channels,
which `depth_to_space` interleaves into the output. The taps are the layer's own kernel,
gathered (the taps a phase does not use are zeros): same weights, same sums, in another
order, so the results agree to float error. It is used where it measured faster (see
`MAX_CHANNELS`); everything else falls back to Keras's own computation.
"""

import keras
import numpy as np
import tensorflow as tf

# Up to this many channels the phase form is used: where benchmarks/polyphase_conv.py measured
# it faster than Keras's layer in float32 and bfloat16 (docs/results/polyphase_conv.md).
MAX_CHANNELS = 4


def _taps(kernel_size, stride):
    """Per axis: (`first`, `taps`), where phase `p` of the output at offset `a` (from `first` to
    `first + len - 1`) uses kernel tap `taps[p][a - first]`, or -1 for none."""
    pad = max(kernel_size - stride, 0) // 2
    offsets = [a for a in range(-kernel_size, kernel_size + 1)
               if any(0 <= p + pad - stride * a < kernel_size for p in range(stride))]
    first, last = min(offsets + [0]), max(offsets + [0])
    taps = [[p + pad - stride * a if 0 <= p + pad - stride * a < kernel_size else -1
             for a in range(first, last + 1)] for p in range(stride)]
    return first, taps


def _phase_index(kernel_size, strides):
    """Gather indices from a flattened (kh * kw + 1) tap axis (the last one zero) to the phase
    kernel's (th, tw, sh * sw) taps, and the phase convolution's explicit padding."""
    (first_h, taps_h), (first_w, taps_w) = _taps(kernel_size[0], strides[0]), _taps(kernel_size[1], strides[1])
    zero = kernel_size[0] * kernel_size[1]
    index = np.full((len(taps_h[0]), len(taps_w[0]), strides[0] * strides[1]), zero, dtype=np.int32)
    for p in range(strides[0]):
        for q in range(strides[1]):
            for i, kh in enumerate(taps_h[p]):
                for j, kw in enumerate(taps_w[q]):
                    if kh >= 0 and kw >= 0:
                        index[i, j, p * strides[1] + q] = kh * kernel_size[1] + kw
    padding = [[0, 0], [-first_h, first_h + len(taps_h[0]) - 1], [-first_w, first_w + len(taps_w[0]) - 1], [0, 0]]
    return index, padding


def transposed_conv_by_phases(inputs, kernel, strides):
    """`tf.nn.conv2d_transpose(inputs, kernel, ..., strides, "SAME")` with the output `strides`
    times the input's height and width, as one stride-1 convolution and `depth_to_space`.

    `inputs`: (N, H, W, C_in); `kernel`: (kh, kw, C_out, C_in), a transposed convolution's
    filter (Keras's `Conv2DTranspose` kernel; a `Conv2D` kernel (kh, kw, C_x, C_y) gives the
    gradient of its input). Returns (N, sh * H, sw * W, C_out). Differentiable to any order.
    """
    kh, kw, out_channels, in_channels = kernel.shape
    sh, sw = strides
    index, padding = _phase_index((kh, kw), (sh, sw))
    flat = tf.reshape(kernel, (kh * kw, out_channels, in_channels))
    flat = tf.concat([flat, tf.zeros((1, out_channels, in_channels), kernel.dtype)], 0)
    phases = tf.gather(flat, index)  # (th, tw, sh * sw, C_out, C_in)
    th, tw = index.shape[:2]
    phases = tf.reshape(tf.transpose(phases, (0, 1, 4, 2, 3)), (th, tw, in_channels, sh * sw * out_channels))
    outputs = tf.nn.conv2d(inputs, phases, 1, padding)
    if sh == sw:
        return tf.nn.depth_to_space(outputs, sh)
    n, h, w = tf.shape(outputs)[0], tf.shape(outputs)[1], tf.shape(outputs)[2]
    outputs = tf.reshape(outputs, (n, h, w, sh, sw, out_channels))
    return tf.reshape(tf.transpose(outputs, (0, 1, 3, 2, 4, 5)), (n, h * sh, w * sw, out_channels))


def _filter_gradient(inputs, kernel_shape, out_gradient, strides):
    return tf.compat.v1.nn.conv2d_backprop_filter(
        inputs, kernel_shape, out_gradient, (1, *strides, 1), "SAME")


def _phased(layer, channels):
    """Whether `layer`'s convolution is one the phase form computes, with `channels` the few."""
    return (keras.backend.backend() == "tensorflow" and layer.rank == 2 and layer.padding == "same"
            and layer.data_format == "channels_last" and tuple(layer.dilation_rate) == (1, 1)
            and getattr(layer, "groups", 1) == 1 and getattr(layer, "output_padding", None) is None
            and min(layer.strides) > 1 and channels <= MAX_CHANNELS
            # A kernel narrower than its stride is left to TensorFlow (whose own filter-gradient
            # kernel crashes the process on it, in Keras's layers as well).
            and all(k >= s for k, s in zip(layer.kernel_size, layer.strides)))


def _bias_and_activation(layer, outputs):
    if layer.use_bias:
        # BiasAdd, not a broadcast add: its gradient joins the filter-gradient kernel (one op
        # instead of a separate sum over the whole output).
        outputs = tf.nn.bias_add(outputs, tf.cast(layer.bias, outputs.dtype))
    return layer.activation(outputs) if layer.activation is not None else outputs


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class PolyphaseConv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose`; with "same" padding, a stride above 1 and at most
    `MAX_CHANNELS` filters, its forward pass runs phase by phase (see the module), its backward
    pass through TensorFlow's own convolution kernels (a strided convolution for the input's
    gradient, the filter-gradient kernel for the kernel's). Same weights and config as Keras's
    layer, outputs equal to float error; anything else is Keras's layer unchanged.

    Examples:
        >>> import numpy as np
        >>> layer = PolyphaseConv2DTranspose(1, 5, strides=2, padding="same")
        >>> x = np.random.default_rng(0).normal(size=(2, 7, 7, 8)).astype("float32")
        >>> y = layer(x)
        >>> plain = keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same")
        >>> _ = plain(x); plain.set_weights(layer.get_weights())
        >>> bool(np.allclose(y, plain(x), atol=1e-5)), tuple(y.shape)
        (True, (2, 14, 14, 1))
    """

    def call(self, inputs):
        if not _phased(self, self.filters):
            return super().call(inputs)
        strides = tuple(self.strides)
        kernel = tf.cast(self.kernel, self.compute_dtype)

        @tf.custom_gradient
        def transposed(x, k):
            def gradient(dy):
                # The input's gradient of a transposed convolution is the strided convolution with
                # the same kernel; the kernel's is the filter gradient with input and output swapped.
                return (tf.nn.conv2d(dy, k, (1, *strides, 1), "SAME"),
                        _filter_gradient(dy, tf.shape(k), x, strides))
            return transposed_conv_by_phases(x, k, strides), gradient

        return _bias_and_activation(self, transposed(tf.cast(inputs, self.compute_dtype), kernel))


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class PolyphaseConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` whose input gradient runs phase by phase when it reads at most
    `MAX_CHANNELS` channels with "same" padding and a stride above 1 that divides the input's
    height and width (a discriminator's or encoder's first layer on images): that gradient is
    a transposed convolution writing those few channels (see the module). The forward pass and
    the kernel's gradient are TensorFlow's own; the input gradient is differentiable again, as a
    gradient penalty needs. Same weights and config as Keras's layer; anything else is Keras's
    layer unchanged.

    Examples:
        >>> import numpy as np
        >>> import tensorflow as tf
        >>> layer = PolyphaseConv2D(8, 5, strides=2, padding="same")
        >>> plain = keras.layers.Conv2D(8, 5, strides=2, padding="same")
        >>> x = tf.constant(np.random.default_rng(0).normal(size=(2, 14, 14, 1)).astype("float32"))
        >>> _ = layer(x), plain(x); plain.set_weights(layer.get_weights())
        >>> def input_gradient(conv):
        ...     with tf.GradientTape() as tape:
        ...         tape.watch(x)
        ...         loss = tf.reduce_sum(conv(x) ** 2)
        ...     return tape.gradient(loss, x)
        >>> bool(np.allclose(input_gradient(layer), input_gradient(plain), atol=1e-4))
        True
    """

    def call(self, inputs):
        # The input's channels from the kernel: an exported signature may leave every dimension open.
        height, width = inputs.shape[1], inputs.shape[2]
        if (not _phased(self, self.kernel.shape[2]) or height is None or width is None
                or height % self.strides[0] or width % self.strides[1]):
            return super().call(inputs)
        strides = tuple(self.strides)
        kernel = tf.cast(self.kernel, self.compute_dtype)

        @tf.custom_gradient
        def convolution(x, k):
            def gradient(dy):
                return transposed_conv_by_phases(dy, k, strides), _filter_gradient(x, tf.shape(k), dy, strides)
            return tf.nn.conv2d(x, k, (1, *strides, 1), "SAME"), gradient

        return _bias_and_activation(self, convolution(tf.cast(inputs, self.compute_dtype), kernel))
