"""Record files: the line format, the writer, and the one reader model."""
