"""Evaluation: restore a run, score the test splits, plots, reports, robustness, predictions.

The metrics themselves are in `fakenas_jax.metrics`.
"""

from fakenas_jax.eval.plots import markdown_table, save_cross_dataset_heatmap, save_roc_plot

__all__ = ["markdown_table", "save_cross_dataset_heatmap", "save_roc_plot"]
