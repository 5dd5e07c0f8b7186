"""A nested function rebinds a nonlocal to a sibling function, which is then called."""


def outer():
    action = None

    def fire():
        return "fire"

    def set_action():
        nonlocal action
        action = fire

    set_action()
    return action()


outer()
