"""A class nested in a class, instantiated through self."""


class Outer:
    class Inner:
        def value(self):
            return 1

    def make(self):
        return self.Inner()


Outer().make().value()
