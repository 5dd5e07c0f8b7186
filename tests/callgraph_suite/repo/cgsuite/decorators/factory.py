"""A decorator factory: the factory is called, then the decorator it returns is applied."""


def repeat(times):
    def decorate(func):
        def wrapper():
            result = None
            for _ in range(times):
                result = func()
            return result

        return wrapper

    return decorate


@repeat(3)
def tick():
    return "tick"


tick()
