"""Corpora and input pipelines."""
