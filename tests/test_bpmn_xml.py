"""Safe BPMN XML parsing: entity attacks, DTDs, size, syntax, encodings and the root element."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from lxml import etree

from engine.builder import bpmn_xml
from engine.builder.bpmn_xml import MAX_XML_BYTES, parse_xml, source_line
from engine.builder.namespaces import BPMN_NS, bpmn
from engine.errors import DefinitionError, Problem

BODY = f"""<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="d" targetNamespace="x">
  <!-- a comment -->
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"/>
  </bpmn:process>
</bpmn:definitions>
"""
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


def only_problem(err: pytest.ExceptionInfo[DefinitionError]) -> Problem:
    assert len(err.value.problems) == 1, err.value.problems
    return err.value.problems[0]


def refuse(data: bytes, file: str = "in.bpmn") -> Problem:
    with pytest.raises(DefinitionError) as err:
        parse_xml(data, file)
    problem = only_problem(err)
    assert problem.file == file
    return problem


# -- accepted documents -----------------------------------------------------------------


def test_parses_bpmn_definitions_with_lines_and_comments() -> None:
    root = parse_xml((XML_DECL + BODY).encode(), "ok.bpmn")
    assert root.tag == bpmn("definitions")
    start = root.find(f"{bpmn('process')}/{bpmn('startEvent')}")
    assert start is not None
    assert source_line(start) == 5
    assert any(isinstance(node, etree._Comment) for node in root)


def test_declared_latin1_encoding_is_decoded() -> None:
    data = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n' + BODY.replace(
        'targetNamespace="x"', 'targetNamespace="caf\xe9"'
    ).encode("latin-1")
    assert parse_xml(data, "latin.bpmn").get("targetNamespace") == "caf\u00e9"


def test_doctype_text_inside_cdata_of_the_body_is_not_a_doctype() -> None:
    body = BODY.replace(
        "<!-- a comment -->",
        "<bpmn:documentation><![CDATA[<!DOCTYPE html><!ENTITY x 'y'>]]></bpmn:documentation>",
    )
    root = parse_xml(body.encode(), "cdata.bpmn")
    assert "<!DOCTYPE html>" in (root.findtext(bpmn("documentation")) or "")


# -- size, syntax, encodings, root ------------------------------------------------------


def test_files_over_the_size_limit_are_refused_before_parsing() -> None:
    data = (XML_DECL + BODY).encode()
    data += b" " * (MAX_XML_BYTES + 1 - len(data))
    problem = refuse(data)
    assert problem.code == bpmn_xml.CODE_TOO_LARGE
    assert str(MAX_XML_BYTES) in problem.message


def test_a_file_at_the_size_limit_is_accepted() -> None:
    data = (XML_DECL + BODY).encode()
    data += b" " * (MAX_XML_BYTES - len(data))
    assert parse_xml(data, "big.bpmn").tag == bpmn("definitions")


def test_malformed_xml_reports_line_and_column() -> None:
    data = f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}">\n  <bpmn:process>\n</bpmn:definitions>'
    problem = refuse(data.encode())
    assert problem.code == bpmn_xml.CODE_SYNTAX
    assert problem.line == 3
    assert problem.column is not None
    assert "mismatch" in problem.message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b'<?xml version="1.0" encoding="no-such-codec"?><d/>', "encoding"),
        (b'<?xml version="1.0" encoding="UTF-8"?><d>\xff\xfe</d>', "encoding"),
        (b"<d>&undeclared;</d>", "undeclared"),
    ],
)
def test_unreadable_documents_are_definition_errors(data: bytes, words: str) -> None:
    problem = refuse(data)
    assert problem.code == bpmn_xml.CODE_SYNTAX
    assert words in problem.message.lower()
    assert problem.line == 1


@pytest.mark.parametrize(
    "root",
    [
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"/>',
        "<definitions/>",
        f'<bpmn:process xmlns:bpmn="{BPMN_NS}" id="p"/>',
    ],
)
def test_a_root_other_than_bpmn_definitions_is_refused(root: str) -> None:
    problem = refuse(root.encode())
    assert problem.code == bpmn_xml.CODE_ROOT
    assert "bpmn:definitions" in problem.message
    assert problem.line == 1


def test_text_instead_of_bytes_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_xml(BODY, "x.bpmn")  # type: ignore[arg-type]


# -- DTDs and entities ------------------------------------------------------------------


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-42")
    return path


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local TCP listener: a DTD fetch would show as a pending connection."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server
    server.close()


def assert_nobody_connected(server: socket.socket) -> None:
    time.sleep(0.05)
    with pytest.raises(BlockingIOError):
        server.accept()


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse_connect(self: socket.socket, address: object) -> None:
        raise AssertionError(f"parse_xml tried to connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)


def attack_documents(secret: Path, port: int) -> dict[str, str]:
    return {
        "xxe_file": (
            f'<!DOCTYPE bpmn:definitions [<!ENTITY x SYSTEM "file://{secret}">]>\n'
            f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}">&x;</bpmn:definitions>'
        ),
        "external_dtd": (
            f'<!DOCTYPE bpmn:definitions SYSTEM "http://127.0.0.1:{port}/x.dtd">\n'
            f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}"/>'
        ),
        "parameter_entity": (
            f'<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]>\n'
            f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}"/>'
        ),
        "billion_laughs": (
            "<!DOCTYPE lolz [\n"
            '<!ENTITY lol "lol">\n'
            + "".join(
                f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
                for i in range(1, 10)
            )
            + "]>\n"
            f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}">&lol9;</bpmn:definitions>'
        ),
        "bare_doctype": f'<!DOCTYPE d>\n<bpmn:definitions xmlns:bpmn="{BPMN_NS}"/>',
    }


ATTACKS = ["xxe_file", "external_dtd", "parameter_entity", "billion_laughs", "bare_doctype"]


@pytest.mark.usefixtures("no_sockets")
@pytest.mark.parametrize("attack", ATTACKS)
def test_any_doctype_is_refused_with_its_line(
    attack: str, secret_file: Path, listener: socket.socket
) -> None:
    text = attack_documents(secret_file, listener.getsockname()[1])[attack]
    problem = refuse((XML_DECL + "<!-- lead -->\n" + text).encode())
    assert problem.code == bpmn_xml.CODE_DOCTYPE
    assert (problem.line, problem.column) == (3, 1)
    assert "TOP-SECRET" not in str(problem)
    assert_nobody_connected(listener)


@pytest.mark.usefixtures("no_sockets")
@pytest.mark.parametrize("attack", ATTACKS)
def test_doctype_in_utf16_reaches_lxml_safely_and_is_refused(
    attack: str, secret_file: Path, listener: socket.socket
) -> None:
    """The byte scan cannot read UTF-16; lxml parses without loading or resolving anything
    and the DOCTYPE is refused afterwards."""
    text = attack_documents(secret_file, listener.getsockname()[1])[attack]
    data = ('<?xml version="1.0" encoding="UTF-16"?>\n' + text).encode("utf-16")
    started = time.monotonic()
    problem = refuse(data)
    assert time.monotonic() - started < 1.0
    # libxml2 stops the billion laughs itself (amplification limit) even unexpanded
    expected = bpmn_xml.CODE_SYNTAX if attack == "billion_laughs" else bpmn_xml.CODE_DOCTYPE
    assert problem.code == expected
    assert "TOP-SECRET" not in str(problem)
    assert_nobody_connected(listener)


def test_the_parser_never_resolves_a_file_entity(secret_file: Path) -> None:
    """The lxml parser itself is configured not to read files (defence in depth)."""
    text = attack_documents(secret_file, 9)["xxe_file"]
    root = etree.fromstring(text.encode(), bpmn_xml._parser())
    assert "TOP-SECRET" not in etree.tostring(root, encoding="unicode")
    permissive = etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=True))
    assert "TOP-SECRET" in etree.tostring(permissive, encoding="unicode")  # the control


def test_the_parser_never_fetches_an_external_dtd(listener: socket.socket) -> None:
    text = attack_documents(Path("/nonexistent"), listener.getsockname()[1])["external_dtd"]
    root = etree.fromstring(text.encode(), bpmn_xml._parser())
    assert cast(Any, root.getroottree().docinfo).system_url is not None  # not in stubs
    assert_nobody_connected(listener)


def test_parsed_dtd_and_entity_nodes_are_refused() -> None:
    """Second line of defence, for what the byte scan cannot see."""
    with_dtd = etree.fromstring(
        f'<!DOCTYPE d [<!ENTITY e "x">]><bpmn:definitions xmlns:bpmn="{BPMN_NS}">&e;'
        "</bpmn:definitions>".encode(),
        bpmn_xml._parser(),
    )
    with pytest.raises(DefinitionError) as err:
        bpmn_xml._refuse_parsed_declarations(with_dtd, "e.bpmn")
    assert only_problem(err).code == bpmn_xml.CODE_DOCTYPE

    entity_only = etree.Element(bpmn("definitions"))
    entity_only.append(etree.Entity("e"))
    with pytest.raises(DefinitionError) as err2:
        bpmn_xml._refuse_parsed_declarations(entity_only, "e.bpmn")
    assert only_problem(err2).code == bpmn_xml.CODE_ENTITY
    assert "&e;" in only_problem(err2).message
