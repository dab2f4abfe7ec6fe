"""The built-in synthetic deepfake corpus (see `synthetic_faces_dataset_builder.py`)."""

from tfds_builders.synthetic_faces.synthetic_faces_dataset_builder import (
  Builder,
  SyntheticFacesConfig,
)

__all__ = ["Builder", "SyntheticFacesConfig"]
