"""Data hygiene: stage gate, auto-tag, influence prompts, reconciliation, disputes (SPEC section 4)."""
