"""WGAN-GP: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"."""

import tensorflow as tf

import keras

from keras_gan_zoo.capabilities import GENERATE_LABELLED, LABELLED_SAMPLE, SAMPLE
from keras_gan_zoo.gans.wgan import WGAN
from keras_gan_zoo.registry import register


@register(
    "wgan_gp",
    "Gulrajani et al. 2017: Wasserstein critic with a gradient penalty, 5 critic steps per generator step",
    defaults={"data_shape": (28, 28, 1), "latent_dim": 100, "filters": 64, "hidden_units": (128, 128)},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 8, "filters": 8, "hidden_units": (8,), "critic_steps": 2},
    tiny_options=[{"conditional": True, "num_classes": 3}],
)
class WGANGP(WGAN):
    """Wasserstein GAN whose critic is kept 1-Lipschitz by a gradient penalty.

    The critic minimizes D(G(z)) - D(x) + lambda (||grad D(x_hat)|| - 1)^2
    on points x_hat drawn uniformly between real and generated examples; the
    generator minimizes -D(G(z)). The paper's defaults: lambda 10, 5 critic
    steps per generator step, Adam(1e-4, beta_1=0, beta_2=0.9), and no batch
    normalization in the critic (the penalty is per example). Each train step
    takes one real batch, and every critic step uses it with fresh noise and
    fresh interpolation points.

    Args:
        data_shape: shape of one example, default `(28, 28, 1)`.
        latent_dim: size of the noise, default 100.
        penalty_weight: lambda, default 10.
        **kwargs: see `zoo.gans.WGAN` (`filters`, `hidden_units`,
            `critic_steps`) and `zoo.adversarial.AdversarialModel`.

    Examples:
        >>> import keras_gan_zoo as zoo
        >>> wgan = zoo.create("wgan_gp", data_shape=(2,), hidden_units=(16,))
        >>> wgan.compile()
        >>> wgan.fit(zoo.data.load("ring8", batch_size=100), epochs=1, steps_per_epoch=2, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> sorted(wgan.get_metrics_result())
        ['d_loss', 'g_loss', 'gradient_penalty']
    """

    critic_batch_norm = False
    # The penalty is on each example's own gradient, which packing and
    # minibatch discrimination would mix with the rest of the batch's.
    techniques = frozenset({"feature_matching", "virtual_batch_norm"})

    def __init__(self, data_shape=(28, 28, 1), latent_dim=100, penalty_weight=10.0, conditional=False,
                 num_classes=10, **kwargs):
        if kwargs.get("clip_value") is not None:
            raise ValueError("wgan_gp replaces weight clipping by the gradient penalty; leave clip_value unset.")
        kwargs.pop("clip_value", None)
        self.penalty_weight = float(penalty_weight)
        # The players take the class (the `conditional` a model derives from its capabilities).
        self.takes_classes = bool(conditional)
        self.num_classes = int(num_classes)
        if self.takes_classes:
            if self.num_classes < 2:
                raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
            # The critic takes [x, y], which none of the options handle.
            self.techniques = frozenset()
        super().__init__(data_shape, latent_dim, clip_value=None, **kwargs)
        self._add_trackers("gradient_penalty")

    @property
    def capabilities(self):
        if self.takes_classes:
            return frozenset({SAMPLE, LABELLED_SAMPLE, GENERATE_LABELLED})
        return frozenset({SAMPLE})

    def default_optimizer(self):
        """Adam(1e-4, beta_1=0, beta_2=0.9), the paper's setting."""
        return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9)

    def _critic_losses(self, real, fake, condition):
        wasserstein, _ = super()._critic_losses(real, fake, condition)
        # Under a condition only x moves: the penalty is on D(., y) for the example's own y.
        penalty = self._penalty_between(real, fake, condition)
        return wasserstein + self.penalty_weight * penalty, {"gradient_penalty": tf.reduce_mean(penalty)}
