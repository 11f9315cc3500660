"""LLM path tests: client, prompts, fact guard, streaming, grounded answers."""
