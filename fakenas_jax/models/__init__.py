"""Networks: the detectors built by name (`factory.build_model`); the supernet is in `nas`."""

from fakenas_jax.models.factory import MODEL_NAMES, build_model, default_model_config

__all__ = ["MODEL_NAMES", "build_model", "default_model_config"]
