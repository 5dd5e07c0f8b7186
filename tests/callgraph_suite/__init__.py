"""The call-graph suite of issue 13: programs, expected call graphs and the scorer."""
