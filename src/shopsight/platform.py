"""Wires settings to engines once, lazily: the object every command and the server hands around."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from shopsight.config import Settings, path_from_url
from shopsight.deadletter import DeadLetterStore
from shopsight.engines import open_event_log, open_object_store
from shopsight.metadata.db import open_metadata
from shopsight.ports import EventLog, ObjectStore

if TYPE_CHECKING:
    from shopsight.privacy.edge import PrivacyGuard


class Platform:
    """Lazily opened engines for one settings object. Not a global: build one per process or test."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)

    @cached_property
    def metadata(self) -> Engine:
        """The metadata store (SQLAlchemy engine)."""
        return open_metadata(self.settings.metadata_url)

    @cached_property
    def event_log(self) -> EventLog:
        """The durable event log."""
        return open_event_log(self.settings)

    @cached_property
    def lake(self) -> ObjectStore:
        """The raw zone's object store."""
        return open_object_store(self.settings.lake_url)

    @cached_property
    def privacy(self) -> PrivacyGuard:
        """Encryption, blind indexes and card tokenization at the edge."""
        from shopsight.privacy.edge import PrivacyGuard
        from shopsight.privacy.kek import open_kek_provider

        kek = open_kek_provider(self.settings.kek)  # None: the keyfile's own KEKs (the default)
        return PrivacyGuard(path_from_url(self.settings.key_store_url), kek=kek)

    @cached_property
    def dead_letters(self) -> DeadLetterStore:
        """Rejected events and rows, sealed at rest."""
        return DeadLetterStore(self.metadata, seal=self.privacy.seal, unseal=self.privacy.unseal)

    def close(self) -> None:
        """Release engines that were opened."""
        if "event_log" in self.__dict__:
            self.event_log.close()
        if "metadata" in self.__dict__:
            self.metadata.dispose()
