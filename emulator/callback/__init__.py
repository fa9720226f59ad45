"""Callbacks: the signed callback, the factory that makes them, and tampering."""
