"""picycle's web pages for the people who work the cycles: sign-in, inbox, task forms and
cycle pages, in English, Dutch and Arabic. ``init_picycle`` mounts them beside the API.

``init_pages`` is loaded when first asked for: the pages need the API, so importing a
module of this package alone (the leadership report's PDF, for the command line) must not
load the API first."""

__all__ = ["init_pages"]


def __getattr__(name: str):
    if name == "init_pages":
        from .mount import init_pages

        return init_pages
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
