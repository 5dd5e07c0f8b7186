"""Call-graph suite programs of kind `decorators`."""
