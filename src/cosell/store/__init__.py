"""The workspace: DuckDB by default. Only this package knows which database it talks to."""
