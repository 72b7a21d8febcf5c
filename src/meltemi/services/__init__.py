"""Use cases: register definitions; start, pause, resume, cancel, rerun executions.

Each use case runs in one transaction.
"""
