"""ASVspoof 5 (track 1) from a manual download (see the builder module)."""

from tfds_builders.asvspoof5.asvspoof5_dataset_builder import Builder

__all__ = ["Builder"]
