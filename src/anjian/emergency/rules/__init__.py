"""Pure rules of emergency management: no I/O, tested by the table."""
