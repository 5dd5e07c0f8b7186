"""A handler stored on self in __init__ and called from a method."""


def log_event():
    return "logged"


class Button:
    def __init__(self, handler):
        self.handler = handler

    def click(self):
        return self.handler()


button = Button(log_event)
button.click()
