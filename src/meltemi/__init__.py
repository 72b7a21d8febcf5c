"""Meltemi: a fast, durable workflow service that runs Mistral DSL v2 workflows."""

__version__ = "0.1.0"

__all__ = ["__version__"]
