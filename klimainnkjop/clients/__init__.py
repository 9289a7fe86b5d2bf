"""Clients of outside services. Each takes its base URL and an httpx transport, so tests replay recorded
responses without a network."""
