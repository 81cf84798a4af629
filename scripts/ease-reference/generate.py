#!/usr/bin/env python3
"""Dense EASE^R reference (Steck 2019) computed with numpy, for packages/ml's EASE test.

B = I - P * diagMat(1 / diag(P)), P = (X^T X + lambda I)^-1, diag(B) = 0.

Each case is a seeded random binary users x items matrix X; the output JSON holds X as
(user, item) pairs, lambda, P and B (row-major, row = history item, column = target item).
Run: python3 scripts/ease-reference/generate.py > scripts/ease-reference/reference.json
"""
import json

import numpy as np


def case(name, n_users, n_items, density, lam, seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((n_users, n_items)) < density).astype(np.float64)
    # every item has at least one user, so the solve covers the whole catalogue
    for i in range(n_items):
        if x[:, i].sum() == 0:
            x[rng.integers(n_users), i] = 1.0
    g = x.T @ x + lam * np.eye(n_items)
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[np.newaxis, :]
    np.fill_diagonal(b, 0.0)
    users, items = np.nonzero(x)
    return {
        "name": name,
        "nUsers": n_users,
        "nItems": n_items,
        "lambda": lam,
        "pairs": [[int(u), int(i)] for u, i in zip(users, items)],
        "P": [float(v) for v in p.ravel()],
        "B": [float(v) for v in b.ravel()],
    }


if __name__ == "__main__":
    cases = [
        case("small", 12, 7, 0.4, 2.0, 1),
        case("blocked", 90, 41, 0.15, 5.0, 2),
    ]
    print(json.dumps({"generator": "numpy " + np.__version__, "cases": cases}))
