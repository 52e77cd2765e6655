"""Test helpers shared across the suite (servers that misbehave on purpose)."""
