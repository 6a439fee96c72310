"""Partner pay and rep commission: plans, pricing, the append-only ledger, payout runs, statements."""
