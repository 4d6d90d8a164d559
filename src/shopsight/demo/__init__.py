"""A seeded, realistic demo store: Segment events and store entities with labelled anomalies.

``generate(DemoConfig(...))`` streams :class:`DemoItem` s; ``write_files`` and ``send_to_collector``
take them to NDJSON files or to a running collector.

The names load on first use: ``shopsight demo --help`` needs the markets only, not numpy or httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopsight.lazy import lazy_exports

if TYPE_CHECKING:
    from shopsight.demo.generator import ENTITY_KINDS, DemoConfig, DemoItem, generate
    from shopsight.demo.writers import NdjsonWriter, RetryPolicy, SendReport, send_to_collector, write_files

__all__ = [
    "ENTITY_KINDS",
    "DemoConfig",
    "DemoItem",
    "NdjsonWriter",
    "RetryPolicy",
    "SendReport",
    "generate",
    "send_to_collector",
    "write_files",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "ENTITY_KINDS": "shopsight.demo.generator",
        "DemoConfig": "shopsight.demo.generator",
        "DemoItem": "shopsight.demo.generator",
        "generate": "shopsight.demo.generator",
        "NdjsonWriter": "shopsight.demo.writers",
        "RetryPolicy": "shopsight.demo.writers",
        "SendReport": "shopsight.demo.writers",
        "send_to_collector": "shopsight.demo.writers",
        "write_files": "shopsight.demo.writers",
    },
)
