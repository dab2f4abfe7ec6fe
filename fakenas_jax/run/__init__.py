"""What a search and a training run share: the epoch loop, the workdir, progress output."""
