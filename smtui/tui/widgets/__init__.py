"""Widgets of the TUI, one per file; each receives domain objects from `smtui.core.model`."""
