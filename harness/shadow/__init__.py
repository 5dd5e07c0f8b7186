"""Shadow mode (DESIGN §7): the primary serves, the candidate runs beside it and is compared.

The caller always gets the primary's outcome; the candidate's failure, slowness or mismatch is
recorded and never changes it (strict mode raises, for tests and CI).
"""
