"""The comparison engine (DESIGN §7): schema, row count, fingerprint, keyed row diff."""
