"""A method returning a new instance; a method called on the result: A().m().n()."""


class Query:
    def where(self):
        return Query()

    def run(self):
        return []


Query().where().run()
