"""ASVspoof 2021 LA evaluation data from a manual download (see the builder module)."""

from tfds_builders.asvspoof2021_la.asvspoof2021_la_dataset_builder import Builder

__all__ = ["Builder"]
