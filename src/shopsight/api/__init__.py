"""The HTTP server: collector endpoints, health and (later) the platform API and dashboard."""
