"""picycle's HTTP API (Flask + flask-smorest); ``create_app`` or ``init_picycle``."""

from .app import create_app, init_picycle

__all__ = ["create_app", "init_picycle"]
