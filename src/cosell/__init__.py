"""cosell: co-sell attribution a finance controller can audit.

The package is grouped by capability (``data``, ``attribution``, ...) around a pure core
(``money``, ``instants``, ``policy``). Import the capability you need; this module stays
light so that ``cosell --help`` starts fast.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
