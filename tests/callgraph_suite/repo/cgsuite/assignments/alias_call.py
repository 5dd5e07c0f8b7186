"""A function bound to a second name and called through it."""


def func():
    return 42


alias = func
alias()
