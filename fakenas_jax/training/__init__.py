"""Training detectors: losses, optimiser, the train loop with checkpoints and resume."""
