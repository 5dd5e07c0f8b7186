"""Every function of a list literal called in a for loop."""


def setup():
    return "setup"


def teardown():
    return "teardown"


for step in [setup, teardown]:
    step()
