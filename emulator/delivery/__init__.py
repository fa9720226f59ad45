"""Delivering callbacks: the dispatcher, the HTTP transport, and attempt results."""
