"""A seeded, realistic demo store: Segment events and store entities with labelled anomalies.

``generate(DemoConfig(...))`` streams :class:`DemoItem` s; ``write_files`` and ``send_to_collector``
take them to NDJSON files or to a running collector.
"""

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
