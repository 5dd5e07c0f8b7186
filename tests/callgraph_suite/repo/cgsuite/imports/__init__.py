"""Call-graph suite programs of kind `imports`."""
