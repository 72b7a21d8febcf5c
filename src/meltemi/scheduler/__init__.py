"""Durable timers: wait-before/after, retry delays and timeouts (cron comes later)."""

from meltemi.scheduler.timers import TimerWheel, utcnow

__all__ = ["TimerWheel", "utcnow"]
