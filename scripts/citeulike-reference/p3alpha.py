#!/usr/bin/env python3
"""P3alpha (alpha = 1) REC@20 on citeulike-t, field protocol, pure Python (float64), for the
notes in packages/ml/README.md: top-200 kept per candidate item ("col") or per history item
("row"), rows of the pruned similarity normalised to sum 1 or not, ties (in pruning and ranking)
broken by ascending id ("asc"), descending id ("desc") or first appearance in train.csv ("first").
Run: python3 scripts/citeulike-reference/p3alpha.py asc|desc|first col|row 0|1 [DATASET_DIR]
"""
import csv,collections,sys
D=(sys.argv[4] if len(sys.argv) > 4 else '../shared/datasets/citeulike-t') + '/'
tr=collections.defaultdict(list); iu=collections.defaultdict(list); first={}
for r in csv.DictReader(open(D+'train.csv')):
    u,i=r['userId'],int(r['itemId'])
    if i not in first: first[i]=len(first)
    tr[u].append(i); iu[i].append(u)
te=collections.defaultdict(set)
for r in csv.DictReader(open(D+'test.csv')): te[r['userId']].add(int(r['itemId']))
tiekey = sys.argv[1] if len(sys.argv)>1 else 'asc'
tk = (lambda i: i) if tiekey=='asc' else (lambda i: first[i]) if tiekey=='first' else (lambda i:-i)
K=200
mode=sys.argv[2]
norm=sys.argv[3]=='1'
# columns: for each candidate t, S[h,t] = sum_u 1/deg(h) 1/deg(u)
rows=collections.defaultdict(dict)
if mode=='col':
  for t in iu:
    acc=collections.defaultdict(float)
    for u in iu[t]:
        w=1/len(tr[u])
        for h in tr[u]:
            if h!=t: acc[h]+=w/len(iu[h])
    best=sorted(acc.items(), key=lambda kv:(-kv[1], tk(kv[0])))[:K]
    for h,v in best: rows[h][t]=v
else:
  for h in iu:
    acc=collections.defaultdict(float)
    for u in iu[h]:
        w=1/len(iu[h])
        for t in tr[u]:
            if h!=t: acc[t]+=w/len(tr[u])
    best=sorted(acc.items(), key=lambda kv:(-kv[1], tk(kv[0])))[:K]
    for t,v in best: rows[h][t]=v
for h in rows if norm else []:
    s=sum(rows[h].values())
    for t in rows[h]: rows[h][t]/=s
tot=0;n=0;few=0
for u,t in te.items():
    if not t: continue
    sc=collections.defaultdict(float)
    for h in tr[u]:
        for c,v in rows.get(h,{}).items(): sc[c]+=v
    seen=set(tr[u])
    ranked=sorted(((c,v) for c,v in sc.items() if c not in seen), key=lambda kv:(-kv[1], tk(kv[0])))[:20]
    if len(ranked)<20: few+=1
    tot+=len({c for c,_ in ranked}&t)/len(t); n+=1
print(tiekey, mode, norm, tot/n, n, 'users with <20 candidates', few)
