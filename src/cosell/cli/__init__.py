"""The ``cosell`` command: thin typer commands that parse, call a capability, and render."""
