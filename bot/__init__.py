"""Slipstream bot core: platform-neutral; never imports discord or slack_bolt."""
