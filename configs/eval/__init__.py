"""Evaluation configurations (`python -m fakenas_jax.evaluate --config=configs/eval/<name>.py`)."""
