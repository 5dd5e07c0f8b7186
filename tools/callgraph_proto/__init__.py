"""A design prototype of the contract 1.1 call-graph analysis (not an engine); see README.md."""
