"""Safe reading of BPMN XML.

BPMN files come from users, so the parser is locked down: no DTD is loaded, no entity is
resolved, nothing is fetched from the network or the file system, and huge documents are
refused. A document type declaration of any kind is *refused* (not ignored): BPMN never needs
one, and it is the carrier of every XML entity attack (XXE, billion laughs, parameter entities,
external DTDs). Every refusal is a :class:`~engine.errors.DefinitionError` naming the file and,
where known, the line and column.
"""

from __future__ import annotations

from typing import Any, cast

from lxml import etree

from engine.builder.namespaces import BPMN_NS, bpmn
from engine.errors import DefinitionError, Problem

#: Largest BPMN document accepted, in bytes (same limit as the definition loader).
MAX_XML_BYTES = 5_000_000

#: Problem codes of this module.
CODE_TOO_LARGE = "X001"
CODE_SYNTAX = "X002"
CODE_DOCTYPE = "X003"
CODE_ENTITY = "X004"
CODE_ROOT = "X005"

_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"


def source_line(element: etree._Element) -> int | None:
    """The line an element starts on, or None when lxml does not know it."""
    line = element.sourceline
    return line if isinstance(line, int) and line > 0 else None


def _parser() -> etree.XMLParser:
    """A fresh parser that never loads, resolves or fetches anything."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def _line_col(data: bytes, index: int) -> tuple[int, int]:
    """1-based line and column of a byte offset."""
    line = data.count(b"\n", 0, index) + 1
    column = index - (data.rfind(b"\n", 0, index) + 1) + 1
    return line, column


def _refuse_declarations(data: bytes, file: str) -> None:
    """Refuse a DOCTYPE (or any ``<!...>`` declaration) in the prolog, before lxml sees it.

    Only the prolog can hold a document type declaration, and entities can only be declared
    inside one, so the scan stops at the root element: text such as ``<!DOCTYPE html>`` inside
    a CDATA section of the body is not mistaken for one. Works on ASCII-compatible encodings;
    :func:`_refuse_parsed_declarations` covers the others.
    """
    pos = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    size = len(data)
    while pos < size:
        if data[pos] in _WHITESPACE:
            pos += 1
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos + 4)
            if end < 0:
                return
            pos = end + 3
        elif data.startswith(b"<?", pos):
            end = data.find(b"?>", pos + 2)
            if end < 0:
                return
            pos = end + 2
        elif data.startswith(b"<!", pos):
            line, column = _line_col(data, pos)
            raise DefinitionError(
                Problem(
                    "a DOCTYPE declaration is not allowed in BPMN "
                    "(DTDs are never loaded and entities never resolved)",
                    file=file,
                    line=line,
                    column=column,
                    code=CODE_DOCTYPE,
                )
            )
        else:
            return


def _syntax_problem(err: etree.XMLSyntaxError, parser: etree.XMLParser, file: str) -> Problem:
    """The first error lxml logged for this parse, with its position."""
    for entry in parser.error_log:
        if entry.level >= etree.ErrorLevels.ERROR:
            return Problem(
                f"malformed XML: {entry.message}",
                file=file,
                line=entry.line or None,
                column=entry.column or None,
                code=CODE_SYNTAX,
            )
    line, column = err.position
    return Problem(
        f"malformed XML: {err.msg}",
        file=file,
        line=line or None,
        column=column or None,
        code=CODE_SYNTAX,
    )


def _refuse_parsed_declarations(root: etree._Element, file: str) -> None:
    """Second line of defence: a DTD or entity that slipped past the byte scan.

    The byte scan misses declarations in UTF-16/UTF-32 documents; lxml still parsed those
    without loading or resolving anything, so refusing here is safe.
    """
    docinfo = root.getroottree().docinfo
    doctype: str = cast(Any, docinfo).doctype  # not in lxml-stubs
    if doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise DefinitionError(
            Problem(
                "a DOCTYPE declaration is not allowed in BPMN (DTDs are never loaded)",
                file=file,
                line=1,
                code=CODE_DOCTYPE,
            )
        )
    for node in root.iter(etree.Entity):
        raise DefinitionError(
            Problem(
                f"entity reference {node.text} is not allowed in BPMN",
                file=file,
                line=source_line(node),
                code=CODE_ENTITY,
            )
        )


def parse_xml(data: bytes, file: str) -> etree._Element:
    """Parse a BPMN document and return its ``bpmn:definitions`` root element.

    Raises :class:`DefinitionError` for: documents over :data:`MAX_XML_BYTES`, any DOCTYPE /
    DTD / entity declaration or entity reference, malformed XML or undecodable text (with
    lxml's line and column), and a root element that is not ``bpmn:definitions``.
    No network or file access is ever made.
    """
    if not isinstance(data, bytes):
        raise TypeError(f"parse_xml needs bytes, not {type(data).__name__}")
    if len(data) > MAX_XML_BYTES:
        raise DefinitionError(
            Problem(
                f"BPMN file is {len(data)} bytes; the limit is {MAX_XML_BYTES} bytes",
                file=file,
                code=CODE_TOO_LARGE,
            )
        )
    _refuse_declarations(data, file)
    parser = _parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise DefinitionError(_syntax_problem(err, parser, file)) from err
    _refuse_parsed_declarations(root, file)
    if root.tag != bpmn("definitions"):
        qname = etree.QName(root)
        found = f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname
        raise DefinitionError(
            Problem(
                f"the root element is {found}, not bpmn:definitions ({{{BPMN_NS}}}definitions)",
                file=file,
                line=source_line(root),
                code=CODE_ROOT,
            )
        )
    return root
