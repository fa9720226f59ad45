"""Scenario files: the model, the hostile-input YAML reader, and its error messages."""
