"""Tests of partner pay: plans, pricing, the ledger."""
