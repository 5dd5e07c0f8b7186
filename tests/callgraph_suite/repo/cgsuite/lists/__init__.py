"""Call-graph suite programs of kind `lists`."""
