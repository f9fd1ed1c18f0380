"""SavedModel export for TF Serving: `export.export_model(model, out_dir, name=...)`."""

from keras_gan_zoo.export.saved_model import (
    ENDPOINTS, ExportOptions, MAX_ROWS_PER_REQUEST, export_model, saved_model_bytes, servable_parts,
)

__all__ = ["ENDPOINTS", "ExportOptions", "MAX_ROWS_PER_REQUEST", "export_model", "saved_model_bytes", "servable_parts"]
