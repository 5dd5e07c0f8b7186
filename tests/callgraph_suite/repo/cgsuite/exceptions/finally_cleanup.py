"""Calls in try, else and finally clauses."""


def open_resource():
    return "resource"


def use(resource):
    return len(resource)


def close():
    return None


def main():
    try:
        resource = open_resource()
    except OSError:
        resource = None
    else:
        use(resource)
    finally:
        close()
    return resource


main()
