"""Call-graph suite programs of kind `assignments`."""
