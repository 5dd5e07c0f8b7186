"""Decorators for functions and classes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def logged(func: Callable[..., T]) -> Callable[..., T]:
    """Wrap ``func``; the wrapper keeps its name."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return func(*args, **kwargs)

    return wrapper


def tagged(name: str) -> Callable[[type], type]:
    """Class decorator factory that attaches a tag."""

    def decorate(cls: type) -> type:
        cls.tag = name  # type: ignore[attr-defined]
        return cls

    return decorate
