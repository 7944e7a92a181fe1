"""Adapters from inference engines to the backend protocol (tokens in, tokens out)."""
