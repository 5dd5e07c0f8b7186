"""Call-graph suite programs of kind `lambdas`."""
