#!/usr/bin/env python3
"""Exact item-item similarities (P3alpha, RP3beta, item-kNN) on a tiny data set, for
packages/ml/src/models/item-item.test.ts. Pure Python with fractions where the formula allows
(alpha = 1, integer exponents), floats otherwise; ties at a pruning boundary are refused so
that the expected neighbour sets are unambiguous.

S[h][t]: h = history item (row), t = candidate item (column), diagonal 0.
Pruning "column": each column t keeps its k largest positive entries; "row": each row h keeps
its k largest. "normalize": each row of the pruned S divided by its sum.
Run: python3 scripts/item-item-reference/generate.py > scripts/item-item-reference/reference.json
"""
import json
import math
from fractions import Fraction

ITEMS = ["a", "b", "c", "d", "e", "f"]
HISTORIES = {
    "u0": ["e", "f"],
    "u1": ["b", "c"],
    "u2": ["c", "d"],
    "u3": ["b", "c", "d", "f"],
    "u4": ["c", "d", "e", "f"],
    "u5": ["a", "e", "f"],
    "u6": ["d", "e", "f"],
    "u7": ["b", "e", "f"],
}
N = len(ITEMS)


def has(user, item):
    return ITEMS[item] in HISTORIES[user]


def users_of(item):
    return [u for u in HISTORIES if has(u, item)]


def walk(alpha, beta):
    """S = sum over u of P(h→u)^alpha P(u→t)^alpha, divided by degree(t)^beta."""
    exact = isinstance(alpha, int) and isinstance(beta, int)
    one = Fraction(1) if exact else 1.0
    s = [[0.0] * N for _ in range(N)]
    for h in range(N):
        for t in range(N):
            if h == t:
                continue
            raw = sum(
                (one / len(users_of(h))) ** alpha * (one / len(HISTORIES[u])) ** alpha
                for u in users_of(h)
                if has(u, t)
            )
            s[h][t] = raw / len(users_of(t)) ** beta
    return s


def cosine(alpha, shrink, penalty):
    """dot / (|h|^(2 alpha) |t|^(2 (1 - alpha)) + shrink) / users(t)^penalty, binary data."""
    s = [[0.0] * N for _ in range(N)]
    for h in range(N):
        for t in range(N):
            if h == t:
                continue
            dot = sum(1 for u in HISTORIES if has(u, h) and has(u, t))
            if dot == 0:
                continue
            nh = math.sqrt(len(users_of(h)))
            nt = math.sqrt(len(users_of(t)))
            s[h][t] = dot / (nh ** (2 * alpha) * nt ** (2 * (1 - alpha)) + shrink) / len(users_of(t)) ** penalty
    return s


def keep_best(values, k):
    """Indices of the k largest positive values; a tie across the boundary is an error."""
    positive = sorted((i for i, v in enumerate(values) if v > 0), key=lambda i: -values[i])
    if len(positive) > k and values[positive[k - 1]] == values[positive[k]]:
        raise SystemExit(f"tie at the pruning boundary: {values}")
    return set(positive[:k])


def prune(s, k, by):
    out = [[0.0] * N for _ in range(N)]
    if by == "row":
        for h in range(N):
            for t in keep_best(s[h], k):
                out[h][t] = s[h][t]
    else:
        for t in range(N):
            for h in keep_best([s[r][t] for r in range(N)], k):
                out[h][t] = s[h][t]
    return out


def normalize(s):
    out = []
    for row in s:
        total = sum(row)
        out.append([v / total if total else v for v in row])
    return out


def case(name, kind, params, dense):
    pruned = prune(dense, params["neighbours"], ("column", "row")[params["prune"]])
    if params["normalize"]:
        pruned = normalize(pruned)
    return {
        "name": name,
        "kind": kind,
        "params": params,
        "similarity": [[float(v) for v in row] for row in pruned],
    }


cases = []
for prune_by in (0, 1):
    for norm in (0, 1):
        p = {"neighbours": 2, "alpha": 1, "prune": prune_by, "normalize": norm}
        cases.append(case(f"p3alpha k=2 prune={prune_by} normalize={norm}", "p3alpha", p, walk(1, 0)))
cases.append(case("rp3beta alpha=0.5 beta=0.7 k=2 by column, normalised", "rp3beta",
                  {"neighbours": 2, "alpha": 0.5, "beta": 0.7, "prune": 0, "normalize": 1}, walk(0.5, 0.7)))
cases.append(case("rp3beta alpha=1 beta=0.5 k=3 by row", "rp3beta",
                  {"neighbours": 3, "alpha": 1, "beta": 0.5, "prune": 1, "normalize": 0}, walk(1, 0.5)))
for prune_by in (0, 1):
    p = {"neighbours": 2, "shrink": 1, "alpha": 0.8, "popularityPenalty": 0.3, "prune": prune_by, "normalize": 0}
    cases.append(case(f"item-knn asymmetric + penalty k=2 prune={prune_by}", "item-knn", p, cosine(0.8, 1, 0.3)))
p = {"neighbours": 3, "shrink": 0, "alpha": 0.5, "popularityPenalty": 0, "prune": 0, "normalize": 1}
cases.append(case("item-knn cosine k=3 by column, normalised", "item-knn", p, cosine(0.5, 0, 0)))

print(json.dumps({"items": ITEMS, "histories": HISTORIES, "cases": cases}, indent=1))
