"""Mutation test (issue 11, items 1 and 4): every boilerplate line of the five real dumps,
rephrased in ways the profile's lists do not know (another case, an extra word, a synonym,
a bullet added or taken away, the whole block in another template language), is still
removed, while adversarial speech lines put into the same pages stay.

The rephrasings are written here by hand, not taken from config/site.yaml.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.extract.extractor import extract_record
from pipeline.context import get_profile
from pipeline.model.records import Page

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "pipeline/data/seeds").glob("*.expected.json"))
PROFILE = get_profile()

SYNONYMS = {"advanced": "extended", "settings": "options", "additional": "further", "materials": "resources",
            "photos": "pictures", "photo": "picture", "album": "gallery", "general": "common",
            "information": "info", "incorrect": "wrong", "search": "lookup", "tools": "instruments",
            "дополнительные": "другие", "материалы": "документы", "фото": "снимки", "фотоальбом": "фотогалерея",
            "некорректно": "неверно", "инструменты": "средства", "поиска": "поиск",
            "supplémentaires": "complémentaires", "album": "galerie", "générale": "pratique"}
EXTRA_WORD = {"latin": "more", "cyrillic": "ещё"}
OTHER_TEMPLATE = {
    "de": ["Weitere Unterlagen", "• Bilder", "Bildergalerie", "2 von 14 Fotos im Album", "Datum falsch angegeben",
           "Weitere Suchoptionen"],
    "es": ["Documentos complementarios", "• Imágenes", "Galería de imágenes", "3 de 9 fotos en el álbum",
           "Opciones de búsqueda avanzada"],
    "en-new": ["Related documents", "• Pictures", "Picture gallery", "4 of 20 photos in album", "Wrong dates entered",
               "More search instruments"],
}
ADVERSARIAL = [
    "Colleagues,",
    "Friends,",
    "Photos of the talks were handed to the press pool this morning, as agreed.",
    "Web resources of the ministry will carry the full text of the statement.",
    "E-mail is not a safe channel for such talks, and we all know that.",
    "Additional materials, including the maps, will be passed on to our partners.",
    "«Мы никогда не откажемся от своих принципов», – сказал тогда министр.",
    "1941-1945",
    "Thank you.",
]
LEAK_INSIDE = ["Picture gallery", "2 of 14 photos in album", "Extended lookup options", "• Common info"]


def _script(text: str) -> str:
    return "cyrillic" if re.search("[а-яё]", text, re.I) else "latin"


def mutate(line: str, how: str) -> str:
    stripped = line.strip()
    if not stripped or stripped == "-":
        return line
    if how == "case":
        return stripped.upper()
    if how == "bullet":
        return stripped.lstrip("• ").strip() if stripped.startswith("•") else "• " + stripped
    if how == "synonym":
        words = stripped.split()
        swapped = [SYNONYMS.get(w.casefold(), w) for w in words]
        if swapped != words:
            return " ".join(swapped)
        how = "extra"
    if how == "extra":
        words = stripped.split()
        return " ".join(words[:1] + [EXTRA_WORD[_script(stripped)]] + words[1:])
    raise AssertionError(how)


def _seed(path: Path):
    expected = json.loads(path.read_text(encoding="utf-8"))
    raw = (ROOT / "pipeline/data" / expected["input"]).read_text(encoding="utf-8").split("\n")
    last = expected["paragraphs"][-1].strip()
    end = max(i for i, line in enumerate(raw) if line.strip() == last)
    return expected, raw, end


def _extract(lines: list[str]):
    return extract_record(Page(source="mutant", content="\n".join(lines).encode()), PROFILE)


@pytest.mark.parametrize("how", ["case", "extra", "synonym", "bullet"])
@pytest.mark.parametrize("seed", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_rephrased_trailing_boilerplate_is_removed(seed, how):
    expected, raw, end = _seed(seed)
    mutated = raw[: end + 1] + [mutate(line, how) for line in raw[end + 1:]]
    assert _extract(mutated).body.split("\n\n") == expected["paragraphs"]


@pytest.mark.parametrize("template", sorted(OTHER_TEMPLATE))
@pytest.mark.parametrize("seed", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_trailing_block_in_another_template_language_is_removed(seed, template):
    expected, raw, end = _seed(seed)
    mutated = raw[: end + 1] + ["", "", ""] + OTHER_TEMPLATE[template] + raw[end + 1:]
    assert _extract(mutated).body.split("\n\n") == expected["paragraphs"]


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_adversarial_speech_stays_among_mutated_boilerplate(seed):
    expected, raw, end = _seed(seed)
    paragraphs = expected["paragraphs"]
    at = next(i for i, line in enumerate(raw) if line.strip() == paragraphs[2].strip())
    mutated = (raw[:at] + [x for line in ADVERSARIAL[:-1] for x in (line, "")] + raw[at: end + 1]
               + ["", ADVERSARIAL[-1]] + [mutate(line, "synonym") for line in raw[end + 1:]])
    want = paragraphs[:2] + ADVERSARIAL[:-1] + paragraphs[2:] + ADVERSARIAL[-1:]
    assert _extract(mutated).body.split("\n\n") == want


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_a_menu_leaked_between_speech_paragraphs_is_removed(seed):
    expected, raw, end = _seed(seed)
    paragraphs = expected["paragraphs"]
    at = next(i for i, line in enumerate(raw) if line.strip() == paragraphs[3].strip())
    mutated = raw[:at] + LEAK_INSIDE + raw[at:]
    assert _extract(mutated).body.split("\n\n") == paragraphs
