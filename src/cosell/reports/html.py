"""A report as one self-contained HTML file with charts (placeholder until issue 7 lands)."""
