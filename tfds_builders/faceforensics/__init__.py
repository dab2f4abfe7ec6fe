"""FaceForensics++ (see `faceforensics_dataset_builder.py`)."""

from tfds_builders.faceforensics.faceforensics_dataset_builder import Builder, FaceForensicsConfig

__all__ = ["Builder", "FaceForensicsConfig"]
