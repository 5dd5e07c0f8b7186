"""Call-graph suite programs of kind `arguments`."""
