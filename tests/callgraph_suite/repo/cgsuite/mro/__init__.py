"""Call-graph suite programs of kind `mro`."""
