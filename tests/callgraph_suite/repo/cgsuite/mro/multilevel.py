"""A method found two levels up the hierarchy."""


class A:
    def ping(self):
        return "pong"


class B(A):
    pass


class C(B):
    def twice(self):
        return self.ping() + self.ping()


C().twice()
