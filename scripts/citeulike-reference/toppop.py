#!/usr/bin/env python3
"""TopPop REC@20 on citeulike-t (../shared/datasets/citeulike-t), pure Python, for the figures
packages/ml/test/citeulike.test.ts checks and the notes in packages/ml/README.md.

Popularity = distinct train users per item. Each user with test items gets the 20 most popular
items not in their train set. Protocols: "field" (test items never seen in train stay in the
denominator as misses; users with >= 1 test item) and "drop-unrankable" (those items left out;
users with >= 1 remaining test item). Ties in popularity broken three ways: ascending item id,
descending item id, and first appearance in train.csv (the item index order of a loader that
numbers items as it meets them).
Run: python3 scripts/citeulike-reference/toppop.py [DATASET_DIR]
"""
import collections
import csv
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/citeulike-t"
train = collections.defaultdict(set)
first_seen = {}
for row in csv.DictReader(open(f"{root}/train.csv")):
    user, item = row["userId"], int(row["itemId"])
    first_seen.setdefault(item, len(first_seen))
    train[user].add(item)
users_of = collections.Counter(item for items in train.values() for item in items)
test = collections.defaultdict(set)
for row in csv.DictReader(open(f"{root}/test.csv")):
    test[row["userId"]].add(int(row["itemId"]))


def recall_at_20(order, drop):
    total, users = 0.0, 0
    for user, items in test.items():
        if drop:
            items = {i for i in items if i in users_of}
        if not items:
            continue
        seen = train.get(user, set())
        top = [i for i in order if i not in seen][:20]
        total += len(set(top) & items) / len(items)
        users += 1
    return total / users, users


ties = {
    "ascending id": lambda i: i,
    "descending id": lambda i: -i,
    "first appearance": lambda i: first_seen[i],
}
for name, key in ties.items():
    order = sorted(users_of, key=lambda i: (-users_of[i], key(i)))
    for protocol in ("field", "drop-unrankable"):
        value, users = recall_at_20(order, protocol != "field")
        print(f"{protocol:16} ties by {name:16} REC@20 {value:.6f} ({users} users)")
