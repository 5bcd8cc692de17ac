"""The emulator's state: plain records (`records`) in memory, optionally persisted to SQLite (`store`)."""

from smtui.emulator.store.store import Store, pipeline_key

__all__ = ["Store", "pipeline_key"]
