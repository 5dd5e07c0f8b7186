"""Call-graph suite programs of kind `dicts`."""
