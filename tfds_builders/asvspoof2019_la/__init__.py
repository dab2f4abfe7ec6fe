"""ASVspoof 2019 LA from a manual download (see `asvspoof2019_la_dataset_builder.py`)."""

from tfds_builders.asvspoof2019_la.asvspoof2019_la_dataset_builder import Builder

__all__ = ["Builder"]
