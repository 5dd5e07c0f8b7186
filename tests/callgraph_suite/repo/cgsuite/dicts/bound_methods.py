"""Bound methods kept in a dict attribute and dispatched by a method."""


class Router:
    def __init__(self):
        self.routes = {"home": self.home}

    def home(self):
        return "home"

    def route(self, path):
        return self.routes[path]()


Router().route("home")
