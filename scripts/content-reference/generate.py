#!/usr/bin/env python3
"""Exact content (TF-IDF cosine) and user-kNN references on tiny data sets, for
packages/ml/src/models/content.test.ts and user-knn.test.ts. Pure Python, written from the
definitions (not from the TypeScript); ties at a pruning boundary are refused so the expected
neighbour sets are unambiguous.

Content: tokens of an item = "category:<genre>" for each genre (lower-cased, "(no genres listed)"
dropped), "tag:<tag>", "word:<w>" for each title word of >= 2 letters/digits (lower-cased).
idf(t) = ln(N / df(t)), N = items with >= 1 token; vector = idf of each distinct token, L2-normalised
(tokens with idf 0 dropped). S[h][t] = cosine; column pruning: each candidate t keeps the k
largest positive S[h][t], h != t.

User-kNN: binary interactions, S[u][v] = |I(u) & I(v)| / (sqrt|I(u)| sqrt|I(v)| + shrink), each
user u keeps its k largest positive S[u][v] (v != u); score(u, i) = sum over kept v of
S[u][v] * [i in I(v)].
Run: python3 scripts/content-reference/generate.py > scripts/content-reference/reference.json
"""
import json
import math
import re

CATALOGUE = [
    {"id": "a", "title": "Toy Story (1995)", "genres": "Adventure|Animation|Children|Comedy"},
    {"id": "b", "title": "Toy Soldiers (1991)", "genres": "Action|Drama"},
    {"id": "c", "title": "Heat (1995)", "genres": "Action|Crime|Thriller", "tags": "heist"},
    {"id": "d", "title": "Jumanji (1995)", "genres": "Adventure|Children|Fantasy"},
    {"id": "e", "title": "Casino (1995)", "genres": "Crime|Drama|Romance", "tags": "heist;vegas"},
    {"id": "f", "title": "Balto (1995)", "genres": "Adventure|Animation|Children"},
    {"id": "g", "title": "X", "genres": "(no genres listed)"},
]
CONTENT_K = 2


def tokens(item):
    out = set()
    for genre in filter(None, item.get("genres", "").split("|")):
        name = genre.strip().lower()
        if name and name != "(no genres listed)":
            out.add("category:" + name)
    for tag in filter(None, re.split(r"[|;]", item.get("tags", ""))):
        out.add("tag:" + tag.strip().lower())
    for word in re.findall(r"[^\W_]+", item["title"].lower()):
        if len(word) >= 2:
            out.add("word:" + word)
    return out


def content_reference():
    toks = [tokens(item) for item in CATALOGUE]
    n_described = sum(1 for t in toks if t)
    df = {}
    for t in toks:
        for token in t:
            df[token] = df.get(token, 0) + 1
    idf = {token: math.log(n_described / d) for token, d in df.items()}
    vectors = []
    for t in toks:
        kept = {token: idf[token] for token in t if idf[token] > 0}
        norm = math.sqrt(sum(v * v for v in kept.values()))
        vectors.append({token: v / norm for token, v in kept.items()})
    n = len(CATALOGUE)
    cosine = [[0.0] * n for _ in range(n)]
    for h in range(n):
        for t in range(n):
            if h != t:
                cosine[h][t] = sum(v * vectors[t].get(token, 0.0) for token, v in vectors[h].items())
    pruned = [[0.0] * n for _ in range(n)]
    for t in range(n):
        column = sorted(((cosine[h][t], h) for h in range(n) if h != t and cosine[h][t] > 0), reverse=True)
        if len(column) > CONTENT_K:
            assert abs(column[CONTENT_K - 1][0] - column[CONTENT_K][0]) > 1e-9, f"tie at column {t}"
        for value, h in column[:CONTENT_K]:
            pruned[h][t] = value
    return {
        "catalogue": CATALOGUE,
        "tokens": [sorted(t) for t in toks],
        "idf": idf,
        "k": CONTENT_K,
        "cosine": cosine,
        "pruned": pruned,
    }


USERS = ["u0", "u1", "u2", "u3", "u4", "u5"]
ITEMS = ["i0", "i1", "i2", "i3", "i4", "i5"]
HISTORIES = {
    "u0": ["i0", "i1"],
    "u1": ["i0", "i1", "i2"],
    "u2": ["i1", "i2", "i3"],
    "u3": ["i3", "i4"],
    "u4": ["i2", "i3", "i4", "i5"],
    "u5": ["i0", "i5"],
}
USER_K = 2
SHRINK = 1.0


def user_knn_reference():
    sets = [set(HISTORIES[u]) for u in USERS]
    n = len(USERS)
    sim = [[0.0] * n for _ in range(n)]
    for u in range(n):
        for v in range(n):
            if u != v:
                common = len(sets[u] & sets[v])
                sim[u][v] = common / (math.sqrt(len(sets[u])) * math.sqrt(len(sets[v])) + SHRINK)
    kept = []
    for u in range(n):
        row = sorted(((sim[u][v], v) for v in range(n) if v != u and sim[u][v] > 0), reverse=True)
        if len(row) > USER_K:
            assert abs(row[USER_K - 1][0] - row[USER_K][0]) > 1e-9, f"tie at user {u}"
        kept.append({v: value for value, v in row[:USER_K]})
    scores = []
    for u in range(n):
        scores.append([sum(w for v, w in kept[u].items() if ITEMS[i] in sets[v]) for i in range(len(ITEMS))])
    return {
        "users": USERS,
        "items": ITEMS,
        "histories": HISTORIES,
        "k": USER_K,
        "shrink": SHRINK,
        "neighbours": [{USERS[v]: w for v, w in sorted(k.items())} for k in kept],
        "scores": scores,
    }


print(json.dumps({"content": content_reference(), "userKnn": user_knn_reference()}, indent=2))
