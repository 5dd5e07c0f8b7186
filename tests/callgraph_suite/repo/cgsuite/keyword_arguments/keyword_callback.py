"""A callback passed by keyword."""


def job():
    return "job"


def run(task=None):
    return task()


run(task=job)
