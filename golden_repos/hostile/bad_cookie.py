# -*- coding: no-such-codec -*-
"""An unknown codec."""
x = 1
