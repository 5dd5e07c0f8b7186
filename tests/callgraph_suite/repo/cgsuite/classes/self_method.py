"""A method calling another method of the same instance through self."""


class Account:
    def __init__(self):
        self.balance = 0

    def deposit(self, amount):
        self.balance += amount
        return self.report()

    def report(self):
        return self.balance


account = Account()
account.deposit(10)
