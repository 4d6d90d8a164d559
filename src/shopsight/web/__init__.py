"""The web dashboard: server-rendered page shells, plain JavaScript modules and Plotly, all self-hosted."""

from shopsight.web.routes import install_dashboard

__all__ = ["install_dashboard"]
