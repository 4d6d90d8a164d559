"""Evaluation queries from a test (or validation) period: what to ask a model, and what was right."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from shopsight.ml.recommend.interactions import Interactions

Task = Literal["user", "session"]


@dataclass(frozen=True)
class Query:
    """One question: a user's next-period items, or the next item of a session prefix.

    ``context`` is the session prefix (oldest first; empty for user queries) and ``truth`` the items that
    count as right, always items the model could know (seen in training).
    """

    user: str
    context: tuple[str, ...]
    truth: frozenset[str]
    segment: str | None = None


@dataclass(frozen=True)
class QuerySet:
    """The queries of one period and what was set aside, for the evaluation's notes."""

    queries: list[Query]
    cold_users: int = 0
    unseen_items: int = 0
    sampled_from: int = 0

    def notes(self) -> list[str]:
        """What the metrics leave out, in words."""
        notes = []
        if self.cold_users:
            notes.append(f"{self.cold_users} test users unseen in training (cold start) are not scored")
        if self.unseen_items:
            notes.append(f"{self.unseen_items} test interactions on items unseen in training cannot be hit")
        if self.sampled_from > len(self.queries):
            notes.append(f"{len(self.queries)} queries sampled (fixed seed) from {self.sampled_from}")
        return notes


def user_queries(train: Interactions, test: Interactions) -> QuerySet:
    """One query per test user known from training; the truth is their test items seen in training."""
    known_items = np.isin(test.items, np.unique(train.items))
    known_users = np.isin(test.users, np.unique(train.users))
    kept = test.select(known_items & known_users)
    segments = _latest_segments(train)
    order = np.argsort(kept.users, kind="stable")
    users, starts = np.unique(kept.users[order], return_index=True)
    groups = np.split(kept.items[order], starts[1:]) if len(users) else []
    queries = [
        Query(str(user), (), frozenset(items.tolist()), segments.get(str(user)))
        for user, items in zip(users, groups, strict=True)
    ]
    cold = len(np.setdiff1d(np.unique(test.users), np.unique(train.users)))
    return QuerySet(queries, cold_users=cold, unseen_items=int((~known_items).sum()))


def _latest_segments(train: Interactions) -> dict[str, str]:
    if train.segments is None:
        return {}
    order = np.argsort(train.times, kind="stable")
    return dict(zip(train.users[order].tolist(), train.segments[order].tolist(), strict=True))


def session_queries(train: Interactions, test: Interactions) -> QuerySet:
    """One query per position of every test session: the prefix so far, the next item as truth."""
    known = np.isin(test.items, np.unique(train.items))
    keys = test.session_keys()
    order = np.lexsort((test.times, keys))
    keys, items, known = keys[order], test.items[order], known[order]
    same_session = keys[1:] == keys[:-1]
    starts = np.searchsorted(keys, keys)  # first row of each row's session
    queries = [
        Query(str(keys[t]), tuple(items[starts[t] : t].tolist()), frozenset([str(items[t])]))
        for t in np.flatnonzero(same_session & known[1:]) + 1
    ]
    return QuerySet(queries, unseen_items=int((same_session & ~known[1:]).sum()))


def build_queries(task: Task, train: Interactions, test: Interactions) -> QuerySet:
    """User or session queries of ``test`` against what ``train`` knows."""
    return user_queries(train, test) if task == "user" else session_queries(train, test)


def sample(queries: QuerySet, limit: int | None, seed: int) -> QuerySet:
    """At most ``limit`` queries, picked with a fixed seed (all of them when ``limit`` is None)."""
    total = len(queries.queries)
    if limit is None or total <= limit:
        return queries
    picked = np.sort(np.random.default_rng(seed).choice(total, size=limit, replace=False))
    chosen = [queries.queries[i] for i in picked]
    return QuerySet(chosen, queries.cold_users, queries.unseen_items, sampled_from=total)
