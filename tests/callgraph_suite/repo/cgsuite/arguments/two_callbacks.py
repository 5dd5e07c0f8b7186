"""Two callbacks passed together; the callee picks one of them by the value."""


def on_ok(value):
    return value


def on_error(value):
    return -value


def dispatch(value, ok, err):
    if value >= 0:
        return ok(value)
    return err(value)


def main():
    dispatch(1, on_ok, on_error)
    dispatch(-1, on_ok, on_error)


main()
