"""A small run of the import benchmark: every case imports what it should (counts, never timings)."""
from __future__ import annotations

import io

import openpyxl

from items import importer, model, rules
from scripts.bench import bench_import as bench

N = 300


def test_generated_items_are_distinct_valid_and_of_realistic_size():
    documents = [bench.make_document(i) for i in range(N)]
    assert len({d["basic_code"] for d in documents}) == N
    assert {d["item_type"] for d in documents} == set(bench.TYPES)
    for doc in documents:
        assert rules.errors_of(rules.validate(doc, "catalogue")) == [], doc["basic_code"]
        sizes = tuple(len(doc[k]) for k in ("basis", "conditions", "materials", "process", "fees", "faq"))
        assert sizes == (2, 3, 6, 3, 1, 2)


def test_basic_codes_stay_distinct_across_the_hundred_thousand_boundary():
    codes = {bench.basic_code(i) for i in range(99_500, 100_500)} | {bench.basic_code(i) for i in range(500)}
    assert len(codes) == 1500 and all(len(c) == 12 and c.isdigit() for c in codes)


def test_spreadsheet_uses_the_template_headers_and_reads_back_as_the_same_items():
    documents = [bench.make_document(i) for i in range(20)]
    template = openpyxl.load_workbook(io.BytesIO(importer.write_template("xlsx")), read_only=True)
    written = openpyxl.load_workbook(io.BytesIO(bench.xlsx_bytes(documents)), read_only=True)
    header = next(written.worksheets[0].iter_rows(values_only=True))
    assert list(header) == list(next(template.worksheets[0].iter_rows(values_only=True)))
    parsed = importer.read_catalogue(bench.xlsx_bytes(documents), "catalogue.xlsx")
    assert [r.errors for r in parsed.rows] == [[]] * 20
    for row, doc in zip(parsed.rows, documents):
        # a spreadsheet's empty e-licence cell reads as "" where JSON has null; everything else round-trips
        read = model.normalize(row.document)
        for material in read["materials"]:
            material["e_license"] = material["e_license"] or None
        assert read == model.normalize(doc)


def test_every_case_imports_the_expected_counts(tmp_path):
    results, stats = bench.run(N, tmp_path, profile=True)
    by_case = {r.case: r for r in results}
    assert by_case["baseline: plain row-by-row insert"].created == N
    new_json = by_case["JSON import (new catalogue)"]
    assert (new_json.items, new_json.created, new_json.updated, new_json.errors) == (N, N, 0, 0)
    unchanged = by_case["JSON re-import, all unchanged"]
    assert (unchanged.created, unchanged.updated, unchanged.unchanged) == (0, 0, N)
    revised = by_case["JSON re-import, 10% changed"]
    assert (revised.created, revised.updated, revised.unchanged) == (0, N // 10, N - N // 10)
    xlsx = by_case["XLSX import (new catalogue)"]
    assert (xlsx.items, xlsx.created, xlsx.errors) == (N, N, 0)
    assert stats is not None and stats.total_calls > 0
    assert "vs baseline" in bench.table(results) and len(bench.table(results).splitlines()) == len(results) + 1


def test_stage_breakdown_names_every_stage_of_the_import():
    stages = dict(bench.breakdown(bench.json_bytes([bench.make_document(i) for i in range(50)])))
    assert {"rules.validate(doc, 'catalogue')", "model.assign_ids (deepcopy)"} <= set(stages)
    assert all(seconds >= 0 for seconds in stages.values())
