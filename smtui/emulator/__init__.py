"""A local SageMaker Pipelines endpoint: the SageMaker JSON 1.1 protocol and CloudWatch Logs on one port,
executing pipeline definitions on a simulated clock.

Layers, each testable alone, each importing only the ones after it:
`cli` (the command and `start_emulator`) → `wire` (HTTP, AWS JSON 1.1, control endpoints) → `ops` (one
function per API operation) → `engine` (executions on the clock) → `definition` (parsing, checks,
expressions) → `store` (records, `--state`). `demo` seeds pipelines and traffic through the engine.
`clock`, `errors` and `shapes` (botocore's service model) are shared by all. Nothing here imports smtui
outside `smtui.emulator`.
"""
