"""Call-graph suite programs of kind `classes`."""
