"""Metrics: periods, money in the workspace currency, the CFO dashboard and the QBR."""
