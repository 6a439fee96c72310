"""A report as a paginated PDF with charts (placeholder until issue 7 lands)."""
