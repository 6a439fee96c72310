"""Accounts as partners see them: matching a partner's account list to ours (overlap), and which
partner to bring into an open deal (SPEC section 7)."""
