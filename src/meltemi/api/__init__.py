"""The REST API v2 (Mistral-compatible) and the UI's endpoints."""
