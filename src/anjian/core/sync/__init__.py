"""Sync bookkeeping shared by every record that crosses nodes (DESIGN.md §2)."""
