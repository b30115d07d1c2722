"""Summary quality: Planwatch's multi-document summarizer against lead-3 and LexRank, by ROUGE.

    python bench/summary_eval.py FILE.jsonl [--words 250] [--dump OUT.jsonl]

FILE.jsonl holds one cluster a line: {"id": str, "documents": [...], "summary": str}, where each document is
either a plain string (no title) or {"title": str, "text": str}; "summary" is the human reference.

Each cluster gets three summaries, every one cut to the same budget of --words whole words (the first N
whitespace-separated words), and each is scored against the reference with rouge_score's RougeScorer
(rouge1, rouge2, rougeL; use_stemmer=True), F1:

- planwatch: planwatch.stories.summarize.summarize_texts(documents, max_words=N), documents being a list of
  (title, text) tuples, title "" when absent. Only if that import fails does the script print
  "planwatch summarizer not available: <error>" and score the two baselines alone.
- lead-3: the first 3 sentences of each document, in document order (document 1's first 3, then document 2's
  first 3, ...), concatenated, then cut to the budget. Titles are not used.
- lexrank: sumy's LexRankSummarizer over all documents' texts concatenated (titles not used), parsed by
  PlaintextParser with the rule-based tokenizer below (sumy's default one needs NLTK punkt data, which this
  machine cannot download), English stemmer and stop words. It is asked for LEXRANK_SENTENCES sentences
  (more for budgets above 300 words); they are kept in the order LexRank returns them (document order) and
  then cut to the budget.

The table shows mean F1 x 100 per system, the mean length in words after the cut, and the mean wall time of
producing one cluster's summary in milliseconds. --dump writes {"id", "summary"} lines of Planwatch's
summaries as scored (after the cut); nothing is written when Planwatch is not available.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rouge_score import rouge_scorer  # type: ignore[import-untyped,import-not-found,unused-ignore]
from sumy.nlp.stemmers import Stemmer  # type: ignore[import-untyped,import-not-found,unused-ignore]
from sumy.parsers.plaintext import PlaintextParser  # type: ignore[import-untyped,import-not-found,unused-ignore]
from sumy.summarizers.lex_rank import LexRankSummarizer  # type: ignore[import-untyped,import-not-found,unused-ignore]
from sumy.utils import get_stop_words  # type: ignore[import-untyped,import-not-found,unused-ignore]

LEAD_SENTENCES = 3
LEXRANK_SENTENCES = 15
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")

Document = tuple[str, str]  # (title, text); title is "" when the input gave a plain string


class Summarize(Protocol):
    def __call__(self, documents: list[Document], /, *, max_words: int) -> str: ...


@dataclass(frozen=True)
class Cluster:
    id: str
    documents: list[Document]
    reference: str


# --- sentence splitting --------------------------------------------------------------------------------------

# Never end a sentence: titles and the like, which are followed by a name or a number.
_TITLES = frozenset(
    "mr mrs ms dr prof gen sen rep gov lt col sgt capt cmdr adm maj rev hon st mt ft vol fig pp vs approx dept".split()
)
# May end a sentence: split after them only when the next word is a usual sentence opener ("at 6 a.m. The ...").
_AMBIGUOUS = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp jr sr bros etc est".split())
_OPENERS = frozenset(
    "a an the this that these those there it its he she they we i you his her their our my your but and or so "
    "yet if when while after before as at in on by for from with of to meanwhile however still officials "
    "police authorities".split()
)
# A candidate boundary: end punctuation, optional closing quotes/brackets, whitespace, then something that can
# start a sentence (an optional opening quote or bracket, then a capital letter or a digit).
_BOUNDARY = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9])")
_DOTTED = re.compile(r"(?:[a-z]\.)+[a-z]")  # u.s, a.m, e.g (the final period is stripped before matching)
_WORD = re.compile(r"[^\W_]+(?:['\u2019.\-][^\W_]+)*")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _ends_sentence(text: str, end: int, next_word: str) -> bool:
    """Whether the period at text[end - 1] (part of the match ending there) closes a sentence."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    token = text[start:end].lstrip("\"'\u201c\u2018([").rstrip("\"'\u201d\u2019)]")
    if not token.endswith("."):
        return True  # "!" or "?" or an ellipsis
    stem = token.rstrip(".").lower()
    if not stem:
        return True
    if stem in _TITLES:
        return False
    if stem in ("no", "nos"):
        return not next_word[:1].isdigit()  # "No. 10", but "they said no. Then ..."
    if len(stem) == 1 and stem.isalpha():
        return False  # an initial: "John F. Kennedy"
    if stem in _AMBIGUOUS or _DOTTED.fullmatch(stem):
        return next_word.lower() in _OPENERS
    return True


def split_sentences(text: str) -> list[str]:
    """Rule-based sentence splitter: blank lines always separate; within a paragraph, split at . ! ? followed by
    a capital or digit, except after titles (Mr., Dr., Gen., St.), "No." before a number and initials, and,
    unless the next word usually opens a sentence, after dotted abbreviations and the like (U.S., a.m., Jan.)."""
    sentences: list[str] = []
    for block in _PARAGRAPH_BREAK.split(text):
        paragraph = " ".join(block.split())
        begin = 0
        for match in _BOUNDARY.finditer(paragraph):
            rest = paragraph[match.end() :].lstrip()
            word = _WORD.search(rest)
            if _ends_sentence(paragraph, match.end(), word.group(0) if word else ""):
                sentence = paragraph[begin : match.end()].strip()
                if sentence:
                    sentences.append(sentence)
                begin = match.end()
        tail = paragraph[begin:].strip()
        if tail:
            sentences.append(tail)
    return sentences


class RuleTokenizer:
    """What sumy asks of a tokenizer, without NLTK data: language, to_sentences, to_words."""

    def __init__(self, language: str = "english") -> None:
        self.language = language

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(split_sentences(paragraph))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(_WORD.findall(sentence))


# --- systems -------------------------------------------------------------------------------------------------


def cut_words(text: str, words: int) -> str:
    return " ".join(text.split()[:words])


def lead_summary(documents: Sequence[Document], words: int) -> str:
    lead = [s for _, text in documents for s in split_sentences(text)[:LEAD_SENTENCES]]
    return cut_words(" ".join(lead), words)


class LexRank:
    def __init__(self) -> None:
        self.tokenizer = RuleTokenizer("english")
        self.notes: list[str] = []
        try:
            stemmer = Stemmer("english")
            stemmer("evacuations")
        except Exception as exc:  # no offline stemmer: sumy's identity stemmer instead
            self.notes.append(f"lexrank: English stemmer unavailable ({exc}); words are not stemmed")
            self.summarizer = LexRankSummarizer()
        else:
            self.summarizer = LexRankSummarizer(stemmer)
        try:
            self.summarizer.stop_words = get_stop_words("english")
        except Exception as exc:
            self.notes.append(f"lexrank: English stop words unavailable ({exc}); none are removed")

    def __call__(self, documents: Sequence[Document], words: int) -> str:
        text = "\n\n".join(body for _, body in documents)
        parser = PlaintextParser.from_string(text, self.tokenizer)
        count = max(LEXRANK_SENTENCES, math.ceil(words / 20))
        sentences = self.summarizer(parser.document, count)
        return cut_words(" ".join(str(s) for s in sentences), words)


def load_planwatch() -> tuple[Summarize | None, str]:
    try:
        from planwatch.stories.summarize import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
            summarize_texts,
        )
    except ImportError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    fn: Summarize = summarize_texts
    return fn, ""


# --- data and scoring ----------------------------------------------------------------------------------------


def _document(raw: Any, where: str) -> Document:
    if isinstance(raw, str):
        return ("", raw)
    if isinstance(raw, dict) and isinstance(raw.get("text"), str):
        title = raw.get("title") or ""
        if not isinstance(title, str):
            raise ValueError(f"{where}: title is not a string")
        return (title, raw["text"])
    raise ValueError(f"{where}: a document must be a string or an object with a string 'text'")


def load_clusters(path: Path) -> list[Cluster]:
    clusters: list[Cluster] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"{where}: not a JSON object")
            documents = row.get("documents")
            reference = row.get("summary")
            if not isinstance(documents, list) or not documents:
                raise ValueError(f"{where}: 'documents' must be a non-empty list")
            if not isinstance(reference, str) or not reference.strip():
                raise ValueError(f"{where}: 'summary' must be a non-empty string")
            docs = [_document(d, f"{where} document {i}") for i, d in enumerate(documents, 1)]
            clusters.append(Cluster(str(row.get("id", number)), docs, reference))
    return clusters


@dataclass
class Result:
    system: str
    scores: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in ROUGE_TYPES})
    millis: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    summaries: list[tuple[str, str]] = field(default_factory=list)


def evaluate(
    system: str,
    produce: Callable[[Sequence[Document], int], str],
    clusters: Sequence[Cluster],
    words: int,
    scorer: Any,
) -> Result:
    result = Result(system)
    for cluster in clusters:
        started = time.perf_counter()
        summary = cut_words(produce(cluster.documents, words), words)
        result.millis.append((time.perf_counter() - started) * 1000)
        result.lengths.append(len(summary.split()))
        result.summaries.append((cluster.id, summary))
        scores = scorer.score(cluster.reference, summary)
        for rouge_type in ROUGE_TYPES:
            result.scores[rouge_type].append(float(scores[rouge_type].fmeasure))
    return result


def print_table(results: Sequence[Result], clusters: int, words: int) -> None:
    print(f"{clusters} clusters, budget {words} words; ROUGE F1 x 100, mean over clusters")
    header = f"{'system':<10} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8} {'words':>6} {'ms/cluster':>11}"
    print(header)
    print("-" * len(header))
    for r in results:
        r1, r2, rl = (100 * statistics.fmean(r.scores[t]) for t in ROUGE_TYPES)
        print(
            f"{r.system:<10} {r1:>8.2f} {r2:>8.2f} {rl:>8.2f} {statistics.fmean(r.lengths):>6.0f}"
            f" {statistics.fmean(r.millis):>11.2f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("file", type=Path, help="clusters, one JSON object a line")
    parser.add_argument("--words", type=int, default=250, help="word budget for every summary (default 250)")
    parser.add_argument("--dump", type=Path, help="write Planwatch's summaries here as {id, summary} lines")
    args = parser.parse_args(argv)
    if args.words < 1:
        parser.error("--words must be at least 1")

    clusters = load_clusters(args.file)
    if not clusters:
        parser.error(f"{args.file}: no clusters")
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)

    results: list[Result] = []
    summarize, error = load_planwatch()
    if summarize is None:
        print(f"planwatch summarizer not available: {error}")
    else:
        planwatch = summarize

        def run_planwatch(documents: Sequence[Document], words: int) -> str:
            return planwatch(list(documents), max_words=words)

        results.append(evaluate("planwatch", run_planwatch, clusters, args.words, scorer))

    lexrank = LexRank()
    for note in lexrank.notes:
        print(note)
    results.append(evaluate("lead-3", lead_summary, clusters, args.words, scorer))
    results.append(evaluate("lexrank", lexrank, clusters, args.words, scorer))
    print_table(results, len(clusters), args.words)

    if args.dump is not None:
        if summarize is None:
            print(f"--dump: nothing written to {args.dump} (planwatch summarizer not available)")
        else:
            with args.dump.open("w", encoding="utf-8") as out:
                for cluster_id, summary in results[0].summaries:
                    out.write(json.dumps({"id": cluster_id, "summary": summary}, ensure_ascii=False) + "\n")
            print(f"--dump: wrote {len(clusters)} Planwatch summaries to {args.dump}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
