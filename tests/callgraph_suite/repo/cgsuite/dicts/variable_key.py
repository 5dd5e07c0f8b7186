"""Dispatch through a dict by a parameter; both keys are used."""


def start():
    return "start"


def stop():
    return "stop"


ACTIONS = {"start": start, "stop": stop}


def run(command):
    return ACTIONS[command]()


run("start")
run("stop")
