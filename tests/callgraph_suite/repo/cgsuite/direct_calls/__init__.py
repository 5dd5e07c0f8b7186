"""Call-graph suite programs of kind `direct_calls`."""
