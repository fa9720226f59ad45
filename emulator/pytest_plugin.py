"""pytest fixtures for testing your own ZEGO callback receiver (registered via ``pytest11``)."""
