"""The terminal layer: live views, summaries and previews (the only layer that prints)."""
