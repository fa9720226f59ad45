"""The servers we run: the receiver, the mock API, and how they start."""
