"""The demo: realistic pipelines (`pipelines`), a week of history and live traffic (`traffic`)."""

from smtui.emulator.demo.traffic import run_demo_traffic, seed_demo, start

__all__ = ["run_demo_traffic", "seed_demo", "start"]
