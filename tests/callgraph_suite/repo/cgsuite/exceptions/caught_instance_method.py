"""A method called on the caught exception instance."""


class RetryError(Exception):
    def describe(self):
        return "retry"


def attempt():
    raise RetryError()


def main():
    try:
        attempt()
    except RetryError as error:
        return error.describe()
    return None


main()
