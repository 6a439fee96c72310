"""Render a :class:`~cosell.reports.model.Report` in any format (placeholder until issue 7 lands)."""
