"""Call-graph suite programs of kind `builtins`."""
