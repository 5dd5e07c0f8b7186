"""One build of a CPG by one backend: request, outcome, and the run manifest (DESIGN §3)."""
