"""How commands and events travel: in-process queues (embedded) or AMQP (cluster)."""
