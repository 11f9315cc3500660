"""Fakes shared across test areas (local servers speaking real platform APIs)."""
