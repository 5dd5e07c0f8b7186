"""sum, abs and round at module level."""

values = [-1.5, 2.25, 3.0]
total = round(sum(abs(v) for v in values), 1)
