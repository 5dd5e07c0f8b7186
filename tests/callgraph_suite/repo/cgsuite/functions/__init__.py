"""Call-graph suite programs of kind `functions`."""
