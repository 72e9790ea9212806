"""The one blueprint every page belongs to; the view modules add their routes to it."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint(
    "picycle_pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    # Not /static: a host's (or the standalone app's) own static route may be there.
    static_url_path="/assets",
)
