"""Runs: planning, executing, resuming, replaying and load mode."""
