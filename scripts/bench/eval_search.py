"""Evaluation: how often citizen queries find the item they mean (top-1, top-3, MRR, zero results), for the
hall search beside the previous search and `LIKE '%q%'`, on the demonstration catalogue.

    python -m scripts.bench.eval_search [--queries tests/data/search_eval/queries.csv] [--failures]

Every catalogue item of scripts/demo.py is published in three counties with its aliases and guide text.
A query counts as answered at k when any of its expected items is among the first k entries; the
previous search and LIKE answer one entry per local item, as they did. `--failures` lists the dev-split
queries missed at 3 (never the held-out ones: those stay unseen while tuning).
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from guides import hall_search, search_exact, search_index
from guides import search as analysis
from items.codes import make_credit_code
from items.errors import Invalid
from scripts import demo
from scripts import demo_vocabulary as vocab
from server import db as dbmod

QUERIES = Path(__file__).resolve().parents[2] / "tests" / "data" / "search_eval" / "queries.csv"
COUNTIES = ("410402", "410421", "410482")
DEPTH = 10


def publish_demo() -> int:
    """Publish every demonstration catalogue item in COUNTIES; returns the number of local items."""
    names = {d.key: d.name for d in vocab.DOMAINS}
    count = 0
    db = search_index.database.obj
    with db.atomic():
        for c, region in enumerate(COUNTIES):
            for spec in demo.catalogue_specs():
                credit = make_credit_code(f"11{region}MB{list(names).index(spec.domain):07d}")
                doc = dict(spec.document, region_code=region, aliases=list(spec.aliases),
                           org={"credit_code": credit, "name": f"{vocab.CITY[1]}{names[spec.domain]}"})
                search_index.index_item(credit + "4" + spec.basic_code, doc, 1)
                count += 1
    return count


def like_names(q: str) -> list[str]:
    db = search_index.database.obj
    text = "%" + analysis.normalize(q).replace("%", r"\%").replace("_", r"\_") + "%"
    sql = ("SELECT name FROM search_doc WHERE name_norm LIKE ? ESCAPE '\\' OR alias_norm LIKE ? ESCAPE '\\' "
           "OR body LIKE ? ESCAPE '\\' ORDER BY name_len, name, impl_code LIMIT ?")
    return [n for (n,) in db.execute_sql(search_index.dialect_sql(db, sql), (text, text, text, DEPTH))]


def _names(fn, q: str) -> list[str]:
    try:
        return [h["name"] for h in fn(q, size=DEPTH)["items"]]
    except Invalid:
        return []


ENGINES = {
    "search": lambda q: _names(hall_search.search, q),
    "previous search": lambda q: _names(search_exact.exact_search, q),
    "LIKE": like_names,
}


def score(rows: list[dict], engine) -> dict:
    top1 = top3 = rr = zero = 0
    missed = []
    for row in rows:
        wanted = set(row["expected"].split("|"))
        names = engine(row["query"])
        if not names:
            zero += 1
        at = next((i for i, n in enumerate(names) if n in wanted), None)
        if at is not None:
            top1 += at == 0
            top3 += at < 3
            rr += 1 / (at + 1)
        if at is None or at >= 3:
            missed.append((row, names[:3]))
    n = len(rows) or 1
    return {"n": len(rows), "top1": top1 / n, "top3": top3 / n, "mrr": rr / n, "zero": zero / n, "missed": missed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--db-url", default=None, help="default: a SQLite file in a temp directory")
    parser.add_argument("--failures", action="store_true", help="list the dev queries missed at 3")
    args = parser.parse_args(argv)
    with open(args.queries, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    tmp = tempfile.TemporaryDirectory(prefix="govhall-eval-search-")
    dbmod.connect(args.db_url or f"sqlite:///{tmp.name}/eval.db")
    items = publish_demo()
    splits = {"dev": [r for r in rows if r["split"] == "dev"], "heldout": [r for r in rows if r["split"] == "heldout"]}
    print(f"{items} local items ({items // len(COUNTIES)} catalogue items × {len(COUNTIES)} counties); "
          f"{len(rows)} queries ({len(splits['dev'])} dev, {len(splits['heldout'])} held out)\n")
    print(f"{'split':9} {'engine':16} {'queries':>8} {'top-1':>7} {'top-3':>7} {'MRR':>7} {'zero':>7}")
    results = {}
    for split, part in splits.items():
        for name, engine in ENGINES.items():
            r = results[split, name] = score(part, engine)
            print(f"{split:9} {name:16} {r['n']:>8} {r['top1']:>7.3f} {r['top3']:>7.3f} {r['mrr']:>7.3f} "
                  f"{r['zero']:>7.3f}")
    by_kind = defaultdict(list)
    for row in splits["dev"]:
        by_kind[row["kind"]].append(row)
    print("\ndev split by kind, search top-3: " + ", ".join(
        f"{k} {score(v, ENGINES['search'])['top3']:.2f} ({len(v)})" for k, v in sorted(by_kind.items())))
    if args.failures:
        print("\ndev queries missed at 3:")
        for row, names in results["dev", "search"]["missed"]:
            print(f"  [{row['kind']}] {row['query']} → {names}  (want {row['expected'][:40]})")
    best = results["heldout", "search"]
    print(f"\ntargets on the held-out split: top-3 ≥ 0.95 → {best['top3']:.3f} "
          f"{'met' if best['top3'] >= 0.95 else 'MISSED'}; zero results ≤ 1 % → {best['zero'] * 100:.1f} % "
          f"{'met' if best['zero'] <= 0.01 else 'MISSED'}")
    search_index.database.obj.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
