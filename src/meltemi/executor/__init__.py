"""Runs actions on threads and reports their outcomes."""

from meltemi.executor.runner import ActionRequest, Executor, describe_exception

__all__ = ["ActionRequest", "Executor", "describe_exception"]
