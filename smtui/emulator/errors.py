"""Errors the emulator answers with, encoded as the service does."""

from __future__ import annotations


class ServiceError(Exception):
    """An error the service returns: `__type` code, message and HTTP status.

    SageMaker's modeled errors carry `Message`; the unmodeled ones and every Logs error carry `message`.
    The protocol layer picks the member name; raise this anywhere below it.
    """

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFound", message)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message)
