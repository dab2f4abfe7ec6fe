"""fakenas_jax: neural architecture search for deepfake detection, in JAX."""

__version__ = "0.1.0"
