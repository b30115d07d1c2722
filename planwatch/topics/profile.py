"""A topic's learned profile (adaptive tracking, as in TDT; Rocchio-style relevance feedback): the
weighted terms of the reports that seed the topic (its query matches and pins) in the current window.
A new report that the query misses joins the topic when it is enough like that profile: the day-four
"Trump's Thanksgiving ultimatum to Kyiv" shares the story's people and objects, not the query's words.

Drift guards, because a profile that learns from its own matches walks away from the topic:
- only seeds teach it; profile and story members never do, so one stray match cannot pull in more;
- it keeps its PROFILE_TERMS heaviest terms, and only the window's seeds: it follows the story as it
  is now and forgets what it was;
- a match needs MIN_SHARED of the profile's terms besides the likeness, so one heavy shared word
  ("Ukraine", "plan") cannot carry a report about grain or Gaza in;
- a topic with fewer than MIN_SEEDS seeds has no profile yet;
- a moderator's exclusion is final (`topics exclude`), and a pin teaches the profile (`topics pin`)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

PROFILE_TERMS = 60
MIN_SEEDS = 3
MIN_SHARED = 5
DEFAULT_THRESHOLD = 0.15  # tuned on bench/data/week_dev (bench/tracking_eval.py)

Vector = dict[str, float]


@dataclass(frozen=True, slots=True)
class TopicProfile:
    topic_id: int
    weights: Vector  # unit length, at most PROFILE_TERMS terms
    seeds: int

    def likeness(self, vec: Vector) -> ProfileLikeness:
        shared = sorted((t for t in vec if t in self.weights), key=lambda t: (-vec[t] * self.weights[t], t))
        score = sum(vec[t] * self.weights[t] for t in shared)
        return ProfileLikeness(self.topic_id, score, tuple(shared))


@dataclass(frozen=True, slots=True)
class ProfileLikeness:
    topic_id: int
    score: float
    shared: tuple[str, ...]  # heaviest contribution first

    def matches(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.score >= threshold and len(self.shared) >= MIN_SHARED

    def evidence(self) -> str:
        return json.dumps({"score": round(self.score, 3), "shared": list(self.shared[:8])})


def build_profiles(seed_vectors: dict[int, list[Vector]]) -> dict[int, TopicProfile]:
    """topic id -> its profile, from the vectors of its seeds (each of unit length)."""
    profiles: dict[int, TopicProfile] = {}
    for topic_id, vectors in sorted(seed_vectors.items()):
        if len(vectors) < MIN_SEEDS:
            continue
        total: Vector = {}
        for vec in vectors:
            for term, weight in vec.items():
                total[term] = total.get(term, 0.0) + weight
        kept = sorted(total, key=lambda t: (-total[t], t))[:PROFILE_TERMS]
        norm = math.sqrt(sum(total[t] ** 2 for t in kept)) or 1.0
        profiles[topic_id] = TopicProfile(topic_id, {t: total[t] / norm for t in kept}, len(vectors))
    return profiles


def top_terms(profile: TopicProfile, count: int = 20) -> list[tuple[str, float]]:
    return sorted(profile.weights.items(), key=lambda item: (-item[1], item[0]))[:count]


def seeds_by_topic(seeds: dict[int, set[int]], vectors: dict[int, Vector], report_ids: Iterable[int]) -> dict[int, list[Vector]]:
    """topic id -> the vectors of its seeds among these reports (in id order: deterministic)."""
    out: dict[int, list[Vector]] = {}
    for report_id in sorted(report_ids):
        vec = vectors.get(report_id)
        if vec is None:
            continue
        for topic_id in sorted(seeds.get(report_id, ())):
            out.setdefault(topic_id, []).append(vec)
    return out
