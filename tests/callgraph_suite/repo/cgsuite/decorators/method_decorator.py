"""A decorator applied to a method in a class body."""


def logged(method):
    def wrapper(self, *args):
        return method(self, *args)

    return wrapper


class Service:
    @logged
    def handle(self, request):
        return request


Service().handle("req")
