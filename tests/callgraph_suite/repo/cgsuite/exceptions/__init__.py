"""Call-graph suite programs of kind `exceptions`."""
