"""Headless commands for scripts: ls, show, wait, start, stop, retry, launch… (docs/commands.md)."""
