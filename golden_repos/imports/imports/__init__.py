"""Every way of importing."""
