"""codeanatomy's harness: gateway, shadow mode, comparison, gates, reports, config, CLI.

Library use (DESIGN §1): ``from harness import build_graph_product, GraphProductBuildRequest``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.gateway import (
        GraphProductBuildRequest,
        GraphProductBuildResult,
        build_graph_product,
    )

__all__ = ["GraphProductBuildRequest", "GraphProductBuildResult", "build_graph_product"]


def __getattr__(name: str) -> Any:
    # Lazy: the CLI imports harness sub-packages that must not pay for the whole gateway.
    if name in __all__:
        from harness import gateway

        return getattr(gateway, name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
