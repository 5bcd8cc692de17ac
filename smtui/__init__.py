"""smtui: a terminal monitor for Amazon SageMaker Pipelines."""

__version__ = "0.1.0"
