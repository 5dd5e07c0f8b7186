"""Call-graph suite programs of kind `generators`."""
