"""Experiments: replications with common random numbers, comparisons, sweeps, executors."""
