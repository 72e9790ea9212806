"""The one way picycle reads untrusted XML (uploaded process models).

No DTD is loaded, no entity expanded, nothing fetched over the network, no huge tree built,
and a document that declares a DOCTYPE is refused outright (XXE, billion laughs). Each call
gets a fresh parser: lxml parsers must not be shared between threads.
"""

from __future__ import annotations

import re

from lxml import etree

_DOCTYPE = re.compile(rb"<!DOCTYPE")
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_:]")  # a DOCTYPE can only come before it


class RefusedXml(ValueError):
    """Why the bytes were not read, and the line it is about (None when unknown)."""

    def __init__(self, reason: str, line: int | None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


class NotWellFormed(RefusedXml):
    pass


class DoctypeDeclared(RefusedXml):
    def __init__(self, line: int):
        super().__init__("DOCTYPE declarations are not allowed", line)


def parse_untrusted(content: bytes) -> etree._Element:
    """The root element of an XML document from outside; raises RefusedXml."""
    # Refused before parsing: nothing a DTD declares is ever looked at.
    first_element = _FIRST_ELEMENT.search(content)
    doctype = _DOCTYPE.search(content, 0, first_element.start() if first_element else len(content))
    if doctype is not None:
        raise DoctypeDeclared(content.count(b"\n", 0, doctype.start()) + 1)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        raise NotWellFormed(error.msg, error.lineno or None) from error
    if root.getroottree().docinfo.doctype:  # hidden from the byte search by an odd encoding
        raise DoctypeDeclared(1)
    return root
