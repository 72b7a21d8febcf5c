"""The standard actions (``std.*``)."""
