"""A with statement calls __enter__ and __exit__ of the context manager."""


class Transaction:
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return False

    def commit(self):
        return "ok"


def main():
    with Transaction() as tx:
        tx.commit()


main()
