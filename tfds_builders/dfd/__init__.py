"""Google/Jigsaw's DeepFakeDetection corpus (see `dfd_dataset_builder.py`)."""

from tfds_builders.dfd.dfd_dataset_builder import Builder, DFDConfig

__all__ = ["Builder", "DFDConfig"]
