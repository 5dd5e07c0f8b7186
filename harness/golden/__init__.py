"""The golden corpus: fixture repositories with expected facts, pinned sdists, the stdlib
corpus and the synthetic repository generator."""
