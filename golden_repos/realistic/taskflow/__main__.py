"""``python -m taskflow``."""

from .cli import main

raise SystemExit(main())
