"""An exported generator read back in Python: what `ganzoo evaluate EXPORT_DIR/NAME` scores.

It calls the SavedModel's own signatures, so the scores are those of what TF
Serving serves.
"""

import pathlib

import tensorflow as tf

from keras_gan_zoo.export import serving_files


def _code_length(path, signature):
    """The length of z, read from the warm-up request of `signature` (the signature's own z
    spec leaves it open, so that the in-graph check can name the expected length)."""
    for log in serving_files.read_warmup_requests(path):
        request = log.predict_log.request
        if request.model_spec.signature_name == signature and "z" in request.inputs:
            return int(request.inputs["z"].tensor_shape.dim[-1].size)
    return None


class ExportedGenerator:
    """An exported generator (the SavedModel `ganzoo export` writes) as `evaluate` reads
    it: its `sample` signature, and its `generate` or `generate_labelled` one for IvOM."""

    def __init__(self, path):
        path = pathlib.Path(path)
        if not (path / "saved_model.pb").exists():
            versions = serving_files.saved_versions(path)
            if not versions:
                raise FileNotFoundError(
                    f"{path} is not a SavedModel nor a served model's folder of versions; give EXPORT_DIR/NAME "
                    f"or EXPORT_DIR/NAME/VERSION as `ganzoo export` wrote them.")
            path = versions[-1]
        self.path = path
        self.loaded = tf.saved_model.load(str(path))
        names = set(self.loaded.signatures)
        if "sample" not in names:
            raise ValueError(f"{path} has no `sample` signature (it has: {', '.join(sorted(names))}); "
                             "evaluate the generator's export, not its encoder's or classifier's.")
        self.conditional = "generate_labelled" in names
        self.labelled = "sample_labelled" in names
        generate = "generate_labelled" if self.conditional else "generate"
        self._generate = self.loaded.signatures[generate]
        self.latent_dim = _code_length(path, generate)
        self.description = f"SavedModel {path}"

    def sample(self, n, seed):
        out = self.loaded.signatures["sample"](num_samples=tf.constant(n, tf.int32), seed=tf.constant(seed, tf.int64))
        return out["samples"].numpy()

    def sample_labelled(self, labels, seed):
        out = self.loaded.signatures["sample_labelled"](labels=tf.constant(labels, tf.int32),
                                                         seed=tf.constant(seed, tf.int64))
        return out["samples"].numpy()

    def sample_table(self, n, seed):
        """`n` rows from the export's `sample_columns` signature, as a DataFrame (text decoded), its
        columns in the table's order where the export records it."""
        import pandas as pd

        if "sample_columns" not in self.loaded.signatures:
            raise ValueError(f"{self.path} has no `sample_columns` signature: it is not a table generator's export.")
        out = self.loaded.signatures["sample_columns"](num_samples=tf.constant(n, tf.int32),
                                                       seed=tf.constant(seed, tf.int64))
        columns = {name: value.numpy() for name, value in out.items()}
        frame = pd.DataFrame({name: [v.decode() for v in values] if values.dtype == object else values
                              for name, values in columns.items()})
        order = serving_files.read_column_order(self.path)
        return frame if order is None else frame[order]

    def generate(self, z, labels=None):
        if labels is None:
            return self._generate(z=z)["samples"]
        return self._generate(z=z, labels=labels)["samples"]
