"""Tests of the hygiene capability (stage gate, auto-tag, prompts, reconciliation, disputes, history)."""
