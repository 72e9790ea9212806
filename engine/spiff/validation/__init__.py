"""Checks a bundle of process models before it is deployed: a broken model must never reach
a running cycle. ``validate_bundle`` reports every problem at once and never raises."""

from .bundle import validate_bundle
from .model import FormParser
from .problems import ERROR, WARNING, Problem

__all__ = ["ERROR", "WARNING", "FormParser", "Problem", "validate_bundle"]
