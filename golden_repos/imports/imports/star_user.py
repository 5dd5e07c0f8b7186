"""Star imports with and without ``__all__``."""

from .api import *
from .helpers import *


def run() -> list[str]:
    return [public_fn(), helper_a(), helper_b(), PublicClass().run()]
