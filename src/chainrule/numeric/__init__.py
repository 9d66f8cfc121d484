"""Numeric layer: NumPy kernels lambdified from the symbolic traces."""
