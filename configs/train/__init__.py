"""Training configurations (`python -m fakenas_jax.train --config=configs/train/<name>.py`)."""
