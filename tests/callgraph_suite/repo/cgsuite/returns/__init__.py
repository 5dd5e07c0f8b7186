"""Call-graph suite programs of kind `returns`."""
