"""Call-graph suite programs of kind `dynamic_code`."""
