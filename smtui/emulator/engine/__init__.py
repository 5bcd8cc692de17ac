"""The execution engine: pipeline executions advanced lazily on the simulated clock, as the scenario says.

`engine` holds the API-facing `Engine`; `run` the event loop of one execution over its `entries`; `steps`
what each step type does, through the `RunView` protocol (`view`); `book` the jobs, callbacks and cache
lookups the steps record in the store; `scope` what expressions see; `scenario` the knobs.
"""

from smtui.emulator.engine.engine import Engine

__all__ = ["Engine"]
