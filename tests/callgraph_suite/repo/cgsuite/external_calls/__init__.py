"""Call-graph suite programs of kind `external_calls`."""
