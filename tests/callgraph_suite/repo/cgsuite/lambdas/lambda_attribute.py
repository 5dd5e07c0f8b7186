"""A lambda stored on self and called by a method."""


def log(message):
    return message


class Job:
    def __init__(self):
        self.callback = lambda: log("done")

    def finish(self):
        return self.callback()


Job().finish()
