"""Call-graph suite: one subpackage per kind of call."""
