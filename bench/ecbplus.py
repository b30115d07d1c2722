"""Reads the development half of ECB+ from ../shared/corpus/ecbplus-dev at run time (never copied here).

Each topic holds documents about two real events of the same kind: files `N_Mecb.xml` report one,
`N_Mecbplus.xml` the other. That makes it a hard grouping test: same-kind events with other people,
places and times must stay apart. Cross-document coreference chains over action mentions say which
sentences of different documents describe one happening, which the claim matcher is measured on.

The even-numbered topics (the held-out half) are not in that folder and must never be fetched."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # a local, known corpus, not input from the network
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "ecbplus-dev"
# Detokenized, an address reads "http: / / www. example. com / ...".
_URL = re.compile(r"^\s*(https?\s*:\s*/\s*/|www\s*\.)")
_NO_SPACE_BEFORE = re.compile(r"\s+([.,;:!?%)\]'’”]|n't|'s)")
_NO_SPACE_AFTER = re.compile(r"([(\[“‘$])\s+")


@dataclass(frozen=True, slots=True)
class Sentence:
    number: int
    text: str
    # Instance ids of the action (event) chains this sentence mentions across documents.
    events: frozenset[str]


@dataclass(frozen=True, slots=True)
class Document:
    name: str  # "1_10ecbplus"
    topic: int
    event: str  # gold event: "1/ecb" or "1/ecbplus"
    title: str
    text: str
    sentences: tuple[Sentence, ...] = field(default_factory=tuple)


def detokenize(tokens: list[str]) -> str:
    text = " ".join(tokens).replace("``", "“").replace("''", "”")
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    return _NO_SPACE_AFTER.sub(r"\1", text)


def _read(path: Path) -> Document:
    root = ET.parse(path).getroot()
    by_sentence: dict[int, list[tuple[int, str]]] = defaultdict(list)
    token_sentence: dict[str, int] = {}
    for token in root.iter("token"):
        number = int(token.get("sentence", "0"))
        by_sentence[number].append((int(token.get("number", "0")), token.text or ""))
        token_sentence[token.get("t_id", "")] = number
    markables = root.find("Markables")
    mention_sentences: dict[str, set[int]] = {}
    if markables is not None:
        for markable in markables:
            anchors = [a.get("t_id", "") for a in markable.findall("token_anchor")]
            if anchors and markable.tag.startswith(("ACTION_", "NEG_ACTION_")):
                mention_sentences[markable.get("m_id", "")] = {token_sentence[a] for a in anchors if a in token_sentence}
    events: dict[int, set[str]] = defaultdict(set)
    relations = root.find("Relations")
    if relations is not None:
        for chain in relations.findall("CROSS_DOC_COREF"):
            instance = chain.get("note", "")
            if not instance.startswith(("ACT", "NEG")):
                continue
            for source in chain.findall("source"):
                for number in mention_sentences.get(source.get("m_id", ""), ()):
                    events[number].add(instance)
    sentences = []
    for number in sorted(by_sentence):
        text = detokenize([t for _, t in sorted(by_sentence[number])])
        if number == 0 and _URL.match(text):
            continue  # an ecbplus document's sentence 0 is often its address
        sentences.append(Sentence(number, text, frozenset(events.get(number, ()))))
    name = path.stem
    topic = int(name.split("_", 1)[0])
    kind = "ecbplus" if name.endswith("ecbplus") else "ecb"
    title = sentences[0].text if sentences else ""
    body = "\n".join(s.text for s in sentences[1:])
    return Document(name, topic, f"{topic}/{kind}", title, body, tuple(sentences))


def load(directory: Path = DEFAULT_DIR) -> list[Document]:
    """Every document of the development half, in name order (topic, then file)."""
    if not directory.is_dir():
        raise SystemExit(f"ECB+ development half not found at {directory} (it lives in ../shared/corpus/ecbplus-dev)")
    docs: list[Document] = []
    for topic_dir in sorted((p for p in directory.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name)):
        if int(topic_dir.name) % 2 == 0:
            raise SystemExit(f"refusing to read {topic_dir}: even-numbered ECB+ topics are the held-out half")
        docs.extend(_read(path) for path in sorted(topic_dir.glob("*.xml")))
    return docs
