"""Collector server: HTTP API, auth, limits."""
