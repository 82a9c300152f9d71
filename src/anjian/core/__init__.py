"""The shared kernel: divisions, organisations, identity and access, audit, crypto, sync.

Nothing here imports a business domain."""
