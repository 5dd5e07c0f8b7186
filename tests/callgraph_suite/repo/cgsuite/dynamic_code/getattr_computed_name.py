"""getattr with a name computed by concatenation.

Not expected to be handled (the name is not a literal): the edge to Machine.stop is what
Python runs; the edges to Machine and builtins.getattr are expected to be found.
"""


class Machine:
    def stop(self):
        return "stopped"


name = "st" + "op"
getattr(Machine(), name)()
