"""Uses the namespace package ``extras`` (a directory without ``__init__.py``)."""

import extras
import extras.formats
from extras import formats
from extras.formats import to_csv

from . import plugins


def export(rows: list[list[str]]) -> str:
    return to_csv(rows) + formats.to_csv(rows) + extras.formats.to_csv(rows)


def plugin_doc() -> str | None:
    return plugins.__doc__
