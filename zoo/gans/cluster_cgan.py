"""A conditional GAN on clusters of its own unlabelled data, drawn as often as the data
holds them: after Liu et al. 2020, "Diverse Image Generation via Self-Conditioned GANs",
who cluster the discriminator's features; here the clusters are k-means on the principal
components of the examples, found once before training."""

import numpy as np
import tensorflow as tf

from keras_gan_zoo.capabilities import CLUSTER, GENERATE_LABELLED, LABELLED_SAMPLE, SAMPLE
from keras_gan_zoo.gans.cgan import CGAN
from keras_gan_zoo.registry import register


@register(
    "cluster_cgan",
    "cgan conditioned on k-means clusters of the unlabelled data (after Liu et al. 2020); draws clusters as often as "
    "the data holds them",
    defaults={"data_shape": (28, 28, 1), "latent_dim": 100, "clusters": 50, "filters": 64, "hidden_units": (128, 128)},
    tiny={"data_shape": (16, 16, 1), "latent_dim": 8, "clusters": 3, "filters": 8, "hidden_units": (8,),
          "components": 4},
)
class ClusterCGAN(CGAN):
    """cgan whose classes are the clusters of its training data, found without labels.

    Before training, `fit_clusters(x)` (which `training_data(x)` calls on the first data it
    is given) projects the examples on their first `components` principal components and
    runs k-means (scikit-learn) into `clusters` groups. Training then conditions both
    players on each real example's nearest cluster, computed in the graph, so the model
    trains on unlabelled batches. `sample(n)` and `generate(z)` draw each example's cluster
    as often as the training data held it, from the last entry of z (its normal CDF is a
    uniform draw), so an export's `generate(z)` needs no labels; `sample(n, labels=...)`
    asks for clusters by number and `cluster(x)` reads them back.

    An unconditional generator spreads its mass over the data's groups unevenly: on single
    mnist_5k digits a dcgan drew digits at a KL of 0.049 from uniform, this model with 50
    clusters at 0.0011 (4,000 steps, tuning seed 0, docs/results/stacked_tuning.md). It has
    only each cluster's mix to get right, so it helps as far as clusters are nearly one group:
    on Stacked MNIST, whose whole-image clusters mix each channel's digits, 100 clusters did
    no better than dcgan.

    Args:
        clusters: k, default 50.
        components: principal components the clustering reads, default 50.
        cluster_seed: the seed of the principal components and k-means; the model's `seed`
            (or 0 without one) when None, the default.
        **kwargs: see `zoo.gans.CGAN` (its `num_classes` is `clusters`).

    Examples:
        >>> import numpy as np
        >>> import keras_gan_zoo as zoo
        >>> model = zoo.create("cluster_cgan", data_shape=(2,), clusters=8, hidden_units=(16,))
        >>> x, _ = zoo.data.synthetic.ring8("train", num_examples=800)
        >>> model.compile()
        >>> model.fit(model.training_data(x, batch_size=100), epochs=1, verbose=0)  # doctest: +ELLIPSIS
        <...History...>
        >>> sorted(np.bincount(model.cluster(x), minlength=8).tolist())  # the ring's 8 modes, one a cluster
        [90, 92, 92, 94, 103, 105, 109, 115]
        >>> model.sample(4, seed=0).shape
        (4, 2)
    """

    capabilities = frozenset({SAMPLE, LABELLED_SAMPLE, GENERATE_LABELLED, CLUSTER})
    label_kind = "cluster numbers"

    def __init__(self, data_shape=(28, 28, 1), latent_dim=100, clusters=50, components=50, cluster_seed=None,
                 **kwargs):
        if int(clusters) < 2:
            raise ValueError(f"clusters must be >= 2, got {clusters}.")
        if int(components) < 1:
            raise ValueError(f"components must be >= 1, got {components}.")
        if "num_classes" in kwargs:
            raise ValueError("cluster_cgan's classes are its clusters: give clusters=K, not num_classes.")
        self.components = min(int(components), int(np.prod(data_shape)))
        super().__init__(data_shape, latent_dim, num_classes=int(clusters), **kwargs)
        self.cluster_seed = int(cluster_seed if cluster_seed is not None else self.seed or 0)
        width = int(np.prod(self.data_shape))
        # The clustering, kept with the weights: the data's mean, its principal axes, the
        # centres in their coordinates, and the clusters' cumulative shares of the data.
        self.data_mean = self._state("data_mean", (width,))
        self.principal_axes = self._state("principal_axes", (width, self.components))
        self.centres = self._state("centres", (self.num_classes, self.components))
        self.cumulative_shares = self._state("cumulative_shares", (self.num_classes,))

    def _state(self, name, shape):
        return self.add_weight(shape=shape, initializer="zeros", trainable=False, name=name, dtype="float32")

    @property
    def clusters_fitted(self):
        return bool(self.cumulative_shares.numpy()[-1] > 0)

    @property
    def trains_on_labels(self):
        # The clusters are its labels; a dataset's own labels are not read.
        return False

    def fit_clusters(self, x):
        """Finds the clusters of the examples `x` (N, *data_shape); returns each one's share."""
        from sklearn.cluster import KMeans
        from sklearn.decomposition import PCA

        flat = np.asarray(x, np.float32).reshape(len(x), -1)
        if flat.shape[1] != self.data_mean.shape[0]:
            raise ValueError(f"cluster_cgan expects examples of shape {self.data_shape}, got {np.shape(x)[1:]}.")
        if len(flat) < self.num_classes:
            raise ValueError(f"{self.num_classes} clusters need at least as many examples; got {len(flat)}.")
        pca = PCA(self.components, random_state=self.cluster_seed).fit(flat)
        coordinates = pca.transform(flat)
        kmeans = KMeans(self.num_classes, n_init=4, random_state=self.cluster_seed).fit(coordinates)
        shares = np.bincount(kmeans.labels_, minlength=self.num_classes) / len(flat)
        self.data_mean.assign(pca.mean_.astype("float32"))
        self.principal_axes.assign(pca.components_.T.astype("float32"))
        self.centres.assign(kmeans.cluster_centers_.astype("float32"))
        cumulative = np.cumsum(shares)
        cumulative[-1] = 1.0
        self.cumulative_shares.assign(cumulative.astype("float32"))
        return shares

    def training_data(self, x, y=None, batch_size=128, seed=0):
        """Unlabelled batches of `x`; the clusters are fitted on `x` first unless already fitted
        (a resumed or pretrained model keeps its own)."""
        if not self.clusters_fitted:
            self.fit_clusters(x)
        return super().training_data(x, None, batch_size=batch_size, seed=seed)

    def nearest_cluster(self, x):
        """Each example's nearest cluster centre, as int32, computed in the graph."""
        flat = tf.reshape(tf.cast(x, tf.float32), [tf.shape(x)[0], -1])
        coordinates = tf.matmul(flat - self.data_mean, self.principal_axes)
        distances = (tf.reduce_sum(tf.square(coordinates), 1, keepdims=True)
                     - 2.0 * tf.matmul(coordinates, self.centres, transpose_b=True)
                     + tf.reduce_sum(tf.square(self.centres), 1)[None])
        return tf.argmin(distances, axis=1, output_type=tf.int32)

    def cluster_op(self, x):
        return tf.one_hot(self.nearest_cluster(x), self.num_classes)

    def _unpack(self, data):
        # Every batch's labels are its examples' clusters, which cgan's step conditions on.
        real, _ = super()._unpack(data)
        return real, self.nearest_cluster(real)

    def clusters_of_codes(self, z):
        """The clusters `generate(z)` draws: z's last entry through the normal CDF, a uniform
        draw, read against the clusters' cumulative shares."""
        z = tf.convert_to_tensor(z, tf.float32)
        uniform = 0.5 * (1.0 + tf.math.erf(z[:, -1] / np.sqrt(2.0)))
        passed = tf.cast(uniform[:, None] >= self.cumulative_shares[None, :], tf.int32)
        return tf.minimum(tf.reduce_sum(passed, axis=1), self.num_classes - 1)

    def generate(self, z, labels=None):
        """Codes to data; without `labels`, each code's cluster is drawn from its last entry."""
        if labels is None:
            labels = self.clusters_of_codes(z)
        return super().generate(z, labels)
