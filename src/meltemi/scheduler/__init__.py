"""Durable timers: wait-before/after, retry delays, timeouts and cron triggers."""
