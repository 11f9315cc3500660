"""Jinja prompt and message templates (`*.j2`), loaded with importlib.resources."""
