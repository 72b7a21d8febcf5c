"""Runs actions on threads and asyncio and reports their results as events."""
