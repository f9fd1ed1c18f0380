"""What a variant offers, declared by the variant itself.

Every variant says which of these it offers in `capabilities` (a class
attribute, or a property where the offer follows from the config, as the
aae's clusters do). Export writes one signature per capability, plotting
and the CLI pick what they can draw from it, and the common tests check each
one; nothing asks `hasattr`.

`GenerativeAPI` is the Python side: the prior, and the numpy methods users call, each a thin
wrapper over a TensorFlow method the variant implements (`sample_from_seed`,
`encode_op`, ...), which is also what the exported signature runs, so Python
and TF Serving compute the same thing.

    >>> import keras_gan_zoo as zoo
    >>> sorted(zoo.create("vae", data_shape=(2,), latent_dim=2).capabilities)
    ['decode', 'encode', 'sample']
    >>> zoo.create("gan").classify([[0.0, 0.0]])
    Traceback (most recent call last):
    ...
    ValueError: gan does not offer classify (x -> the most probable class of each example); it offers: sample.
"""

import numpy as np
import tensorflow as tf

import keras

SAMPLE = "sample"
LABELLED_SAMPLE = "labelled_sample"
GENERATE_LABELLED = "generate_labelled"
ENCODE = "encode"
DECODE = "decode"
CLASSIFY = "classify"
PREDICT_CODES = "predict_codes"
CLUSTER = "cluster"
SAMPLE_COLUMNS = "sample_columns"

# Each capability and what it does, for errors, `ganzoo list` and the docs.
DESCRIPTIONS = {
    SAMPLE: "sample(n, seed) and generate(z): samples from the prior",
    LABELLED_SAMPLE: "sample(n, labels=..., seed): samples of the classes (or codes) asked for",
    GENERATE_LABELLED: "generate(z, labels): latent codes and classes -> data",
    ENCODE: "encode(x): examples -> latent codes",
    DECODE: "decode(z): latent codes -> examples, the inverse of encode",
    CLASSIFY: "x -> the most probable class of each example",
    PREDICT_CODES: "predict_codes(x): the categorical and continuous codes read back from examples",
    CLUSTER: "cluster(x): the cluster of each example, learnt without labels",
    SAMPLE_COLUMNS: "sample(n, seed) -> a DataFrame, and sample_columns served: rows as one output per column, "
                    "by name, in the columns' own values",
}
ALL = tuple(DESCRIPTIONS)


def _numpy(tensor, dtype="float32"):
    return keras.ops.convert_to_numpy(tensor).astype(dtype)


def draw_seed(seed):
    """The int64 seed tensor of a draw; a random one when `seed` is None."""
    return tf.constant(int(np.random.default_rng().integers(2**31)) if seed is None else seed, tf.int64)


def _examples(x):
    return tf.convert_to_tensor(np.asarray(x, dtype="float32"))


class GenerativeAPI:
    """The numpy methods of the capabilities, for `keras.Model` variants.

    A variant declares `capabilities` and implements the TensorFlow methods of
    what it declares: `generate` and `prior_from_seed` (sample), `encode_op`,
    `decode_op`, `classify_op`, `predict_codes_op`, `cluster_op`; a variant
    whose labelled draws are not `generate(z, labels)` overrides
    `generate_from_seed(num_samples, seed, labels)`.
    """

    capabilities = frozenset({SAMPLE})
    # What `sample(n, labels=...)` takes, and why a model without labelled sampling refuses them.
    label_kind = "class numbers"
    refuses_labels_because = "is unconditional"

    def require(self, capability):
        """Raises a ValueError naming what this model offers unless it offers `capability`."""
        if capability not in self.capabilities:
            who = self.registered_name or type(self).__name__
            raise ValueError(
                f"{who} does not offer {capability} ({DESCRIPTIONS[capability].split(': ', 1)[-1]}); "
                f"it offers: {', '.join(sorted(self.capabilities))}."
            )

    def sample(self, n, labels=None, seed=None):
        """Draws `n` examples in the data's own form: `sample_array`'s float32 numpy array, or
        for a table generator (`sample_columns`) a DataFrame. Arguments as `sample_array`'s."""
        return self.sample_array(n, labels=labels, seed=seed)

    def sample_array(self, n, labels=None, seed=None):
        """Draws `n` examples as the networks make them, a float32 numpy array: what the
        exported `sample` and `sample_labelled` signatures return.

        Args:
            n: number of examples.
            labels: one class (or categorical code) per example, for models
                offering `labelled_sample`; without them conditional models
                cycle through the classes.
            seed: an int makes the draw reproducible across processes (and
                equal to the exported `sample` signature's).
        """
        if labels is not None and LABELLED_SAMPLE not in self.capabilities:
            raise ValueError(f"{type(self).__name__} {self.refuses_labels_because}; call sample(n) without labels.")
        if n < 1:
            raise ValueError(f"sample() needs n >= 1, got {n}.")
        if labels is not None:
            labels = tf.constant(self._checked_labels(labels, n, self.num_classes, self.label_kind), tf.int32)
        return _numpy(self.sample_from_seed(tf.constant(n, tf.int32), draw_seed(seed), labels))

    def prior_sample(self, n, seed=None, **prior_options):
        """`n` latent codes from the prior; the same seed gives the same codes anywhere.

        `prior_options` go to `prior_from_seed`, for priors that take more (classes, components).
        """
        return self.prior_from_seed(tf.constant(n, tf.int32), draw_seed(seed), **prior_options)

    def prior_from_seed(self, num_samples, seed):
        """The prior draw as TensorFlow ops on tensors: `num_samples` int32, `seed` int64.

        Stateless, so an exported `sample` signature returns exactly what
        `sample(n, seed=...)` returns in Python.
        """
        seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
        shape = tf.stack([tf.cast(num_samples, tf.int32), self.latent_dim])
        return tf.random.stateless_normal(shape, seed=seed_pair)

    def cycled_labels(self, n):
        """0, 1, ..., K-1, 0, 1, ...: `n` labels covering every class in turn."""
        return tf.math.floormod(tf.range(n), self.num_classes)

    # A `zoo.sampling.RejectionSampler` the unlabelled draws go through, when attached.
    sampler = None

    def attach_sampler(self, sampler):
        """Draws `sample(n)` (and the exported `sample` signature) through `sampler`; None detaches it.

        Kept out of the model's saved state: a run keeps the sampler's
        classifier in a file of its own beside model.keras.
        """
        # Past Keras's attribute tracking, so that model.keras stays what the config rebuilds.
        object.__setattr__(self, "sampler", sampler)

    def sample_from_seed(self, num_samples, seed, labels=None):
        """The draw of `sample` as TensorFlow ops, stateless in `seed` (int64).

        What the exported `sample` and `sample_labelled` signatures run:
        through the attached sampler for unlabelled draws, else straight from
        the prior (`generate_from_seed`).
        """
        if self.sampler is not None and labels is None:
            return self.sampler.sample_from_seed(self, num_samples, seed)
        return self.generate_from_seed(num_samples, seed, labels)

    def generate_from_seed(self, num_samples, seed, labels=None):
        """Prior draws through the generator (the classes `labels`, when given), as TensorFlow ops."""
        z = self.prior_from_seed(num_samples, seed)
        return self.generate(z) if labels is None else self.generate(z, labels)

    def encode(self, x):
        """Latent codes of the examples `x`, as float32 numpy."""
        self.require(ENCODE)
        return _numpy(self.encode_op(_examples(x)))

    def decode(self, z, labels=None):
        """Examples decoded from the codes `z` (and classes, for conditional decoders), as float32 numpy."""
        self.require(DECODE)
        z = _examples(z)
        return _numpy(self.decode_op(z) if labels is None else self.decode_op(z, tf.constant(labels, tf.int32)))

    def class_probabilities(self, x):
        """p(class | x) for each example, as float32 numpy."""
        self.require(CLASSIFY)
        return _numpy(self.classify_op(_examples(x)))

    def classify(self, x):
        """The most probable class of each example, as int64 numpy."""
        return self.class_probabilities(x).argmax(axis=-1).astype("int64")

    def predict_codes(self, x):
        """The codes read back from examples: (category probabilities, continuous codes), float32 numpy."""
        self.require(PREDICT_CODES)
        categories, continuous = self.predict_codes_op(_examples(x))
        return _numpy(categories), _numpy(continuous)

    def cluster(self, x):
        """Each example's most probable cluster, as int64 numpy."""
        self.require(CLUSTER)
        return _numpy(tf.argmax(self.cluster_op(_examples(x)), axis=-1), "int64")

    @staticmethod
    def _checked_labels(labels, n, num_values, what="class numbers"):
        """`labels` as a numpy array, if it holds `n` ints in [0, num_values); else a ValueError."""
        labels = np.asarray(labels)
        if labels.shape != (n,) or labels.min() < 0 or labels.max() >= num_values:
            raise ValueError(
                f"labels must hold {n} {what} in [0, {num_values}), one per sample; "
                f"got shape {labels.shape} with values in [{labels.min()}, {labels.max()}]."
            )
        return labels
