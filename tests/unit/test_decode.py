"""Bytes -> text: HTML or text, and the encoding."""

from __future__ import annotations

import codecs

import pytest

from pipeline.extract.decode import decode_page
from pipeline.model.errors import DropPage

RU = "Министр иностранных дел России провёл переговоры с коллегами. " * 20


def test_utf8_text_dump():
    decoded = decode_page("23:28\n\nGood afternoon.\n".encode())
    assert not decoded.is_html and decoded.text.startswith("23:28")


def test_html_with_meta_charset_windows_1251():
    page = f'<html><head><meta charset="windows-1251"></head><body><p>{RU}</p></body></html>'
    decoded = decode_page(page.encode("cp1251"))
    assert decoded.is_html and decoded.encoding == "cp1251" and RU in decoded.text


def test_http_equiv_and_header_charset():
    page = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><p>{RU}</p>'
    assert RU in decode_page(page.encode("cp1251")).text
    assert RU in decode_page(f"<p>{RU}</p>".encode("cp1251"), "text/html; charset=windows-1251").text


def test_undeclared_windows_1251_is_guessed():
    decoded = decode_page(f"<html><body><p>{RU}</p></body></html>".encode("cp1251"))
    assert RU in decoded.text


def test_wrong_declaration_falls_back_to_a_guess():
    decoded = decode_page(f'<html><head><meta charset="utf-8"></head><p>{RU}</p>'.encode("cp1251"))
    assert RU in decoded.text


def test_bom():
    decoded = decode_page(codecs.BOM_UTF8 + "<!DOCTYPE html><p>x</p>".encode())
    assert decoded.is_html and decoded.text.startswith("<!DOCTYPE")


@pytest.mark.parametrize("content, reason", [(b"", "empty"), (b"  \n ", "empty"),
                                             (bytes(range(256)) * 10, "binary"), (b"\x89PNG\r\n\x1a\n\x00\x00", "binary")])
def test_refusals(content, reason):
    with pytest.raises(DropPage, match=reason):
        decode_page(content)


def test_valid_utf8_wins_over_a_stale_windows_1251_declaration():
    page = f'<html><head><meta charset="windows-1251"></head><p>{RU}</p></html>'
    decoded = decode_page(page.encode("utf-8"))
    assert decoded.encoding == "utf-8" and RU in decoded.text
