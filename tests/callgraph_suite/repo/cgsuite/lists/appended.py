"""A function appended to an empty list, then called by index."""


def step():
    return "step"


pipeline = []
pipeline.append(step)
pipeline[0]()
