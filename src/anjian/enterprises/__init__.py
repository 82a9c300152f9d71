"""Enterprise registry (一企一档)."""
