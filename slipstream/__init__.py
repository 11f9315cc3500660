"""Wiring and command-line entry point (`slipstream`)."""
