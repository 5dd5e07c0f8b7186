"""Call-graph suite programs of kind `keyword_arguments`."""
