"""getattr on an imported module with a constant name.

Expected to be handled: math.sqrt is named by a literal; the target is external.
"""

import math

root = getattr(math, "sqrt")(16)
