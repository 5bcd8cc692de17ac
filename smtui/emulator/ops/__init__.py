"""The operations layer: one function per SageMaker or CloudWatch Logs operation. Each looks records up, asks
the engine to act, and shapes the reply; behaviour lives in the engine."""
