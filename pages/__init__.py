"""picycle's web pages for the people who work the cycles: sign-in, inbox, task forms and
cycle pages, in English, Dutch and Arabic. ``init_picycle`` mounts them beside the API."""

from .mount import init_pages

__all__ = ["init_pages"]
