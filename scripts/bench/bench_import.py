"""Catalogue import benchmark: items/s of `govhall import-catalogue` (JSON, XLSX, re-imports) against a plain insert.

    python -m scripts.bench.bench_import [--items 100000] [--dir DIR] [--profile]

Each case runs the real service (CatalogueService.import_file, the code behind `govhall import-catalogue`
and POST /catalogue/imports) on a fresh temporary SQLite file opened exactly as the service opens it.
The baseline parses the same JSON and inserts each document row by row into a table without versions
in one transaction, on the same database settings. `--profile` adds where the JSON import spends its time.
"""
from __future__ import annotations

import argparse
import cProfile
import copy
import gc
import io
import json
import pstats
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import peewee as pw

from items import importer, model, rules
from items.catalogue import CatalogueService, creation_patch
from items.codes import ITEM_TYPES
from items.columns import IMPORT_COLUMNS, FORM, NECESSITY, SOURCE, render_basis
from items.scope import Actor
from server import db as dbmod

ACTOR = Actor(username="bench", role="province_admin")
TYPES = tuple(t for t in ITEM_TYPES if t != "99")  # GB/T 39046 A.1
LAWS = (("法律", "中华人民共和国行政许可法"), ("行政法规", "中华人民共和国市场主体登记管理条例"),
        ("地方性法规", "河南省优化营商环境条例"), ("规章", "建筑工程施工许可管理办法"))
MATERIALS = (("居民身份证", "government", "居民身份证"), ("营业执照", "government", "营业执照"),
             ("申请表", "applicant", ""), ("授权委托书", "applicant", ""), ("场所使用证明", "other", ""),
             ("承诺书", "applicant", ""))
_WORDS = {"necessity": {v: k for k, v in NECESSITY.items()}, "source": {v: k for k, v in SOURCE.items()},
          "form": {"paper": "纸质", "electronic": "电子", "both": "纸质和电子"}}
_OBJECT_WORDS = {"person": "自然人", "enterprise": "企业法人"}
assert set(_WORDS["form"].values()) <= set(FORM)


# --- the items -----------------------------------------------------------------------------------

def basic_code(i: int) -> str:
    """A distinct 12-digit basic code for every i < 10^8, its type part cycling through all item types."""
    return f"00{TYPES[i % len(TYPES)]}{(i // 1000) % 100:02d}{i % 1000:03d}{i // 100_000:03d}"


def make_document(i: int) -> dict:
    """Item i at a realistic size: 2 basis entries, 3 conditions, 6 materials, 3 steps, 1 fee, 2 FAQ."""
    code = basic_code(i)
    name = f"基准事项{i:06d}许可"
    basis = []
    for n, (kind, title) in enumerate((LAWS[i % 4], LAWS[(i + 1) % 4]), 1):
        article = f"第{n + i % 30}条"
        basis.append({"id": f"b{n}", "kind": kind, "title": title, "article": article,
                      "text": f"《{title}》{article} 申请人应当向有关行政机关提出申请，并如实提交有关材料。"})
    materials = [{"id": f"m{n}", "name": m_name, "necessity": "required" if n < 5 else "optional", "source": source,
                  "form": "both", "originals": 1, "copies": n % 2, "e_license": licence or None,
                  "note": "可通过电子证照库调取" if licence else ""}
                 for n, (m_name, source, licence) in enumerate(MATERIALS, 1)]
    return {
        "basic_code": code, "name": name, "item_type": code[2:4], "basis": basis, "levels": ["3", "4"],
        "state": "in_use", "legal_limit": {"value": 5 + i % 16, "unit": "workday", "note": ""},
        "service_objects": ["person", "enterprise"],
        "conditions": [{"id": f"c{n}", "text": f"申请人符合{name}的第{n}项条件"} for n in (1, 2, 3)],
        "materials": materials,
        "process": [{"id": f"p{n}", "name": step, "limit": {"value": 1, "unit": "workday", "note": ""}, "note": ""}
                    for n, step in enumerate(("受理", "审查", "决定"), 1)],
        "fees": [{"id": "f1", "name": "工本费", "standard": "10元/件", "basis": "《行政事业性收费项目目录》"}],
        "faq": [{"id": "q1", "question": f"{name}需要多久？", "answer": "法定时限内办结，即办件当场办结。"},
                {"id": "q2", "question": "可以委托代办吗？", "answer": "可以，请携带授权委托书。"}],
    }


def changed(document: dict) -> dict:
    """A revision an editor might make: a longer legal limit and one more condition."""
    out = copy.deepcopy(document)
    out["legal_limit"]["value"] += 1
    out["conditions"].append({"id": "c4", "text": "新增：申请人无不良信用记录"})
    return out


def json_bytes(documents: list[dict]) -> bytes:
    return json.dumps({"items": documents}, ensure_ascii=False).encode()


def xlsx_row(doc: dict) -> list[str]:
    """One spreadsheet row in the documented layout (items/columns.py)."""
    limit = doc["legal_limit"]
    cells = {
        "basic_code": doc["basic_code"], "name": doc["name"], "item_type": doc["item_type"],
        "basis": render_basis(doc["basis"]), "levels": ",".join(doc["levels"]), "state": "在用",
        "legal_limit": str(limit["value"]), "legal_limit_unit": "工作日", "legal_limit_note": limit["note"],
        "service_objects": ",".join(_OBJECT_WORDS[o] for o in doc["service_objects"]),
        "conditions": "\n".join(c["text"] for c in doc["conditions"]),
        "materials": "\n".join("|".join([m["name"], _WORDS["necessity"][m["necessity"]], _WORDS["source"][m["source"]],
                                         _WORDS["form"][m["form"]], str(m["originals"]), str(m["copies"]),
                                         m["e_license"] or "", m["note"]]) for m in doc["materials"]),
        "process": "\n".join(f"{p['name']}|{p['limit']['value']}工作日|{p['note']}" for p in doc["process"]),
        "fees": "\n".join(f"{f['name']}|{f['standard']}|{f['basis']}" for f in doc["fees"]),
        "faq": "\n".join(f"{q['question']}|{q['answer']}" for q in doc["faq"]),
    }
    return [cells[c.key] for c in IMPORT_COLUMNS]


def xlsx_bytes(documents: list[dict]) -> bytes:
    """The documents as an .xlsx with the template's Chinese headers (items/importer.write_template)."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("基本目录")
    sheet.append([c.header for c in IMPORT_COLUMNS])
    for doc in documents:
        sheet.append(xlsx_row(doc))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- the cases -----------------------------------------------------------------------------------

@dataclass
class Result:
    case: str
    items: int
    seconds: float
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else float("inf")


class BaselineRecord(pw.Model):
    """A plain table: one row per item, no versions, no patches, no heads."""
    basic_code = pw.CharField(max_length=12, unique=True)
    name = pw.CharField(max_length=300)
    item_type = pw.CharField(max_length=4)
    document = pw.TextField()


def _open(path: Path) -> pw.Database:
    return dbmod.connect(f"sqlite:///{path}")  # the service's own pragmas (WAL, busy_timeout, …)


def baseline(data: bytes, path: Path) -> Result:
    """Parse the JSON file and insert each document row by row in one transaction."""
    db = dbmod.open_database(f"sqlite:///{path}")
    with db.bind_ctx([BaselineRecord]):
        db.create_tables([BaselineRecord])
        start = time.perf_counter()
        documents = json.loads(data)["items"]
        with db.atomic():
            for doc in documents:
                BaselineRecord.create(basic_code=doc["basic_code"], name=doc["name"], item_type=doc["item_type"],
                                      document=json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
        seconds = time.perf_counter() - start
        rows = BaselineRecord.select().count()
    db.close()
    return Result("baseline: plain row-by-row insert", len(documents), seconds, created=rows)


def service_import(case: str, data: bytes, filename: str, db: pw.Database, profile: cProfile.Profile | None = None) -> Result:
    """One import through CatalogueService.import_file, timed end to end (parse, validate, write)."""
    gc.collect()
    start = time.perf_counter()
    if profile:
        profile.enable()
    report = CatalogueService().import_file(data, filename, ACTOR, message="bench")
    if profile:
        profile.disable()
    seconds = time.perf_counter() - start
    return Result(case, report["rows"], seconds, report["created"], report["updated"], report["unchanged"],
                  len(report["errors"]))


def run(n: int, workdir: Path, profile: bool = False, xlsx: bool = True,
        report=lambda result: None) -> tuple[list[Result], pstats.Stats | None]:
    """Run every case with n items in `workdir` → (results, profile of the first JSON import or None);
    `report(result)` is called as each case finishes."""
    documents = [make_document(i) for i in range(n)]
    data = json_bytes(documents)
    (workdir / "catalogue.json").write_bytes(data)
    workbook = xlsx_bytes(documents) if xlsx else b""
    if xlsx:
        (workdir / "catalogue.xlsx").write_bytes(workbook)
    revised = json_bytes([changed(d) if i % 10 == 0 else d for i, d in enumerate(documents)])
    del documents
    results: list[Result] = []

    def done(result: Result) -> None:
        results.append(result)
        report(result)

    done(baseline(data, workdir / "baseline.db"))
    profiler = cProfile.Profile() if profile else None
    db = _open(workdir / "json.db")
    done(service_import("JSON import (new catalogue)", data, "catalogue.json", db, profiler))
    done(service_import("JSON re-import, all unchanged", data, "catalogue.json", db))
    done(service_import("JSON re-import, 10% changed", revised, "catalogue.json", db))
    db.close()
    if xlsx:
        db = _open(workdir / "xlsx.db")
        done(service_import("XLSX import (new catalogue)", workbook, "catalogue.xlsx", db))
        db.close()
    return results, (pstats.Stats(profiler) if profiler else None)


def _json_copy(value):
    """A copy of a JSON value (dicts, lists, scalars): what copy.deepcopy does for documents, minus its memo."""
    if type(value) is dict:
        return {k: _json_copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_json_copy(v) for v in value]
    return value


def breakdown(data: bytes) -> list[tuple[str, float]]:
    """Seconds spent in each stage the import runs per row before writing, over the whole file, plus
    what copying the documents costs with copy.deepcopy and with a JSON-only copy."""
    out = []

    def timed(label, fn, items):
        start = time.perf_counter()
        result = [fn(x) for x in items]
        out.append((label, time.perf_counter() - start))
        return result

    start = time.perf_counter()
    documents = [row.document for row in importer.read_catalogue(data, "catalogue.json").rows]
    out.append(("importer.read_catalogue (JSON parse, rows)", time.perf_counter() - start))
    parts = timed("model.catalogue_part (deepcopy per field)", model.catalogue_part, documents)
    normal = timed("model.normalize (deepcopy + trim)", model.normalize, parts)
    ided = timed("model.assign_ids (deepcopy)", model.assign_ids, normal)
    timed("rules.validate(doc, 'catalogue')", lambda d: rules.validate(d, "catalogue"), ided)
    rows = timed("catalogue.creation_patch", creation_patch, ided)
    timed("json.dumps of document + patch (JSONText)",
          lambda pair: (json.dumps(pair[0], ensure_ascii=False), json.dumps(pair[1], ensure_ascii=False)),
          list(zip(ided, rows)))
    timed("reference: copy.deepcopy(document)", copy.deepcopy, documents)
    timed("reference: JSON-only copy of document", _json_copy, documents)
    return out


HEADER = f"{'case':<36} {'items':>8} {'seconds':>9} {'items/s':>9} {'vs baseline':>11}  created/updated/unchanged"


def row(result: Result, base_rate: float) -> str:
    """One line of the table; 'vs baseline' is items/s relative to the baseline's."""
    r = result
    return (f"{r.case:<36} {r.items:>8} {r.seconds:>9.2f} {r.rate:>9.0f} {r.rate / base_rate:>10.2f}x"
            f"  {r.created}/{r.updated}/{r.unchanged}" + (f"  errors {r.errors}" if r.errors else ""))


def table(results: list[Result]) -> str:
    """The results as an aligned text table."""
    base = next(r for r in results if r.case.startswith("baseline")).rate
    return "\n".join([HEADER] + [row(r, base) for r in results])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.bench_import", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--dir", help="keep the files and databases here (default: a temporary directory)")
    parser.add_argument("--profile", action="store_true", help="profile the JSON import and print the hot spots")
    parser.add_argument("--no-xlsx", action="store_true", help="skip the spreadsheet case")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="govhall-bench-") as tmp:
        workdir = Path(args.dir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        print(HEADER, flush=True)
        base: dict[str, float] = {}

        def report(result: Result) -> None:
            print(row(result, base.setdefault("rate", result.rate)), flush=True)  # the baseline runs first

        results, stats = run(args.items, workdir, profile=args.profile, xlsx=not args.no_xlsx, report=report)
        if stats is not None:
            data = (workdir / "catalogue.json").read_bytes()
            print(f"\nJSON import stages without the database ({args.items} items):")
            for label, seconds in breakdown(data):
                print(f"  {label:<48} {seconds:8.2f} s  {1e6 * seconds / args.items:8.0f} µs/item")
            print("\nJSON import, by own time:")
            stats.sort_stats("tottime").print_stats(25)
            print("\nJSON import, by cumulative time:")
            stats.sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
