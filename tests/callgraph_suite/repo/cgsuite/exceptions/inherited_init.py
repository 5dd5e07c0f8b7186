"""A subclass instantiated in a raise runs the __init__ of its base, which calls super()."""


class AppError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class DatabaseError(AppError):
    pass


def query():
    raise DatabaseError(500)


query()
