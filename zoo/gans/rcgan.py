"""RCGAN: Esteban et al. 2017, "Real-valued (Medical) Time Series Generation with Recurrent
Conditional GANs"."""

import keras

from keras_gan_zoo.adversarial import AdversarialModel
from keras_gan_zoo.capabilities import GENERATE_LABELLED, LABELLED_SAMPLE, SAMPLE
from keras_gan_zoo.nets import recurrent
from keras_gan_zoo.registry import register


@register(
    "rcgan",
    "Esteban et al. 2017: LSTM generator and discriminator conditioned on the class, for series (steps, features)",
    defaults={"data_shape": (30, 1), "latent_dim": 4, "num_classes": 2, "lstm_units": (64, 64)},
    tiny={"data_shape": (6, 2), "latent_dim": 3, "num_classes": 3, "lstm_units": (8,)},
    data_kinds=("sequence",),
    tiny_options=[{"class_projection": True}, {"step_position": True}, {"series_logit": True},
                  {"step_noise": 2}],
)
class RCGAN(AdversarialModel):
    """A conditional GAN on series: both players are LSTMs that see the class at every step.

    Trains on labelled batches `(x, y)`: `x` of shape `(batch, steps, features)`, `y`
    integer classes in `[0, num_classes)`. The generator reads the latent code and the
    one-hot class at every step (`zoo.nets.recurrent`) and maps each step's state to its
    features, linearly, so any real-valued series fits; the discriminator judges each step
    from the values so far and the class, and its logit is the mean of the steps' logits.
    Without `labels`, `sample` and `generate` cycle through the classes.

    `ganzoo plot RUN --kind walk` walks a lattice over two axes of the code with the class
    fixed (seed 003, Figure 14). The defaults, chosen on benchmarks/waves.py's tuning seed: a
    code of 4, two LSTM layers of 64 per player, and Adam(1e-3, beta_1=0.5) for both (DCGAN's
    2e-4 learnt no sawtooth within the same budget).

    Args:
        data_shape: `(steps, features)`, default `(30, 1)`.
        latent_dim: size of the code read at every step, default 4.
        num_classes: K, default 2.
        lstm_units: widths of the stacked LSTM layers of each player, default `(64, 64)`.
        class_projection: the discriminator also scores each step's state against an embedding
            of the class (a projection discriminator, Miyato & Koyama 2018), default False.
        step_position: the generator also reads each step's position in the series, default False.
        series_logit: the discriminator adds a logit of the whole series (its last step's state) to
            the mean of the steps' logits, default False.
        step_noise: k fresh noise entries per step beside the code (Esteban et al. draw noise at
            every step), default 0. The model's `latent_dim` is then the code's size plus
            steps * k: z is one vector, the code first.
        **kwargs: see `zoo.adversarial.AdversarialModel`.

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> rcgan = zoo.create("rcgan", lstm_units=(8,))
        >>> rcgan.compile()
        >>> x, y = zoo.data.load_arrays("waves", num_examples=100)
        >>> rcgan.fit(rcgan.training_data(x, y, batch_size=50), epochs=1, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> rcgan.sample(4, labels=[0, 0, 1, 1], seed=0).shape
        (4, 30, 1)
    """

    capabilities = frozenset({SAMPLE, LABELLED_SAMPLE, GENERATE_LABELLED})
    # The discriminator takes [x, y]: the penalty's points between real and generated series are
    # judged with the class of the pair, as conditional wgan_gp's are; the other techniques
    # handle a discriminator of x alone.
    techniques = frozenset({"gradient_penalty"})

    def __init__(self, data_shape=(30, 1), latent_dim=4, num_classes=2, lstm_units=(64, 64), class_projection=False,
                 step_position=False, series_logit=False, step_noise=0, **kwargs):
        recurrent.check_series_shape(data_shape, who="rcgan")
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
        self.num_classes = int(num_classes)
        self.lstm_units = tuple(int(u) for u in lstm_units)
        if not self.lstm_units or min(self.lstm_units) < 1:
            raise ValueError(f"lstm_units must name at least one positive width, got {lstm_units}.")
        self.class_projection = bool(class_projection)
        self.step_position = bool(step_position)
        self.series_logit = bool(series_logit)
        if int(step_noise) < 0:
            raise ValueError(f"step_noise must be >= 0 (0 = the code alone), got {step_noise}.")
        self.step_noise = int(step_noise)
        # The generator's z holds the code and the noise of every step: one flat vector, as
        # every other variant's, so priors, exports and latent walks need nothing new.
        super().__init__(data_shape, int(latent_dim) + data_shape[0] * self.step_noise, **kwargs)

    def default_optimizer(self):
        """Adam(1e-3, beta_1=0.5) for both players (see the class docstring)."""
        return keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.5)

    def build_generator(self):
        return recurrent.recurrent_generator(self.latent_dim, self.num_classes, self.data_shape, self.lstm_units,
                                             step_position=self.step_position, step_noise=self.step_noise)

    def build_discriminator(self):
        return recurrent.recurrent_discriminator(self.data_shape, self.num_classes, self.lstm_units,
                                                 class_projection=self.class_projection,
                                                 series_logit=self.series_logit)
