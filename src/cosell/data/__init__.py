"""The canonical tables: schema, loading and validation, and the demo generator."""
