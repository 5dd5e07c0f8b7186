"""Aliases of standard library and repo modules."""

import collections.abc
import json as _json
import os.path as osp
from os import path as p

from . import api as api_mod
from .api import PublicClass as PC
from .api import public_fn as pf


def joined(a: str, b: str) -> str:
    return osp.join(a, p.basename(b))


def encoded() -> str:
    return _json.dumps({"x": pf(), "y": api_mod.extra_fn()})


def make() -> PC:
    return PC()


def is_mapping(value: object) -> bool:
    return isinstance(value, collections.abc.Mapping)
