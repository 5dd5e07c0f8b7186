"""A base method calling a hook that the subclass overrides; only subclass instances exist."""


class Report:
    def render(self):
        return self.header() + self.body()

    def header(self):
        return "H"

    def body(self):
        return ""


class SalesReport(Report):
    def body(self):
        return "sales"


SalesReport().render()
