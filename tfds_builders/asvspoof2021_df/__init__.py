"""ASVspoof 2021 DF evaluation data from a manual download (see the builder module)."""

from tfds_builders.asvspoof2021_df.asvspoof2021_df_dataset_builder import Builder

__all__ = ["Builder"]
