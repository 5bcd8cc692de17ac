"""SQS queues and EventBridge rules on the emulator's port, and the delivery of SageMaker's status-change
events through them: `bus.Bus` holds them; `queues` (SQS), `rules` and `patterns` (EventBridge), `events` (the
event SageMaker publishes for an engine status change), `delivery` (queue policy and delivery faults).

They live in memory: `--state` keeps pipelines and executions, not queues, rules or messages.
"""
