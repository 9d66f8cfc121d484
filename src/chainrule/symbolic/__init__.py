"""Symbolic layer: losses, activations, network and optimizer traces (imports nothing of ours)."""
