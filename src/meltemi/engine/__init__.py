"""The workflow state machine: pure functions from (spec, state, event) to (new state, commands)."""
