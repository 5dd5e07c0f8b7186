"""Calls the service, which calls storage."""

from .service import create

create("x")
