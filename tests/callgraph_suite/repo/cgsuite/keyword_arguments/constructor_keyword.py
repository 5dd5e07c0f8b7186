"""A handler passed to a constructor by keyword, stored, and called by a method."""


def handler():
    return "clicked"


class Button:
    def __init__(self, label, on_click=None):
        self.label = label
        self.on_click = on_click

    def press(self):
        return self.on_click()


Button("ok", on_click=handler).press()
