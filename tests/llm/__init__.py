"""LLM path tests: client, prompts, claims, claim guard, streaming, grounded answers."""
