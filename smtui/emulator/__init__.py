"""A local SageMaker Pipelines endpoint: the SageMaker JSON 1.1 protocol and CloudWatch Logs on one port,
executing pipeline definitions on a simulated clock.

Layers, each testable alone: protocol (`server`, `shapes`) → operations (`ops_*`) → engine (`engine`) → store.
"""
