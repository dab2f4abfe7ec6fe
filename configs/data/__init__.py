"""Data configs: the corpora, splits and crop sizes of the papers' protocols (see common.py)."""
