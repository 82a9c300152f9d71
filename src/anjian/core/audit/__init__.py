"""Security audit (安全审计): an append-only, SM3-chained record of who did what."""
