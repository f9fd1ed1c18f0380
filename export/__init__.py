"""SavedModel export for TF Serving: `export.export_model(model, out_dir, name=...)`."""

from keras_gan_zoo.export.saved_model import MAX_SAMPLES_PER_REQUEST, export_model, servable_parts

__all__ = ["MAX_SAMPLES_PER_REQUEST", "export_model", "servable_parts"]
