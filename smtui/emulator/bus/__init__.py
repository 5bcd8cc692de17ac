"""SQS queues and EventBridge rules on the emulator's port, and the delivery of SageMaker's status-change
events through them (`queues`, `rules`, `patterns`, `events`, `delivery`).

They live in memory: `--state` keeps pipelines and executions, not queues, rules or messages.
"""
