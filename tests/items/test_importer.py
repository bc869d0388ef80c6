"""Reading catalogue files: govhall JSON, the real Liaoning export, CSV and XLSX in the documented layout."""
from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from items.columns import BASIS_KINDS, IMPORT_COLUMNS, document_from_cells, render_basis, split_basis
from items.errors import Malformed, UnsupportedType
from items.importer import ImportFile, detect_format, iter_catalogue, read_catalogue, write_template

CATALOGUE_KEYS = {"basic_code", "name", "item_type", "basis", "levels", "state", "legal_limit", "service_objects",
                  "conditions", "materials", "process", "fees", "faq"}


@pytest.fixture(scope="module")
def liaoning_bytes(liaoning_sample) -> bytes:
    return liaoning_sample.read_bytes()


@pytest.fixture(scope="module")
def liaoning(liaoning_bytes) -> ImportFile:
    return read_catalogue(liaoning_bytes, "government_data.json")


def _csv(rows: list[list[object]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _by_row(parsed: ImportFile) -> dict:
    return {r.row: r for r in parsed.rows}


# ---- the Liaoning sample ------------------------------------------------------------------------------

def test_every_liaoning_record_parses_without_errors(liaoning):
    assert (liaoning.format, liaoning.source) == ("json", "liaoning")
    assert len(liaoning.rows) == 30
    assert [r.row for r in liaoning.rows] == list(range(1, 31))
    assert liaoning.error_rows == []
    assert all(set(r.document) == CATALOGUE_KEYS for r in liaoning.rows)


def test_liaoning_basic_codes_stay_twelve_character_strings(liaoning, liaoning_bytes):
    source = json.loads(liaoning_bytes)
    codes = [r.document["basic_code"] for r in liaoning.rows]
    assert codes == [record["职权编码"] for record in source]
    assert all(isinstance(c, str) and len(c) == 12 for c in codes)
    assert "000524018000" in codes  # leading zeros kept


def test_patent_record_gets_a_law_and_a_local_regulation_with_titles_and_articles(liaoning):
    patent = next(r.document for r in liaoning.rows if r.document["basic_code"] == "210973001000")
    assert patent["name"] == "专利权侵权纠纷处理"
    assert [(b["id"], b["kind"], b["title"], b["article"]) for b in patent["basis"]] == [
        ("b1", "法律", "中华人民共和国专利法", "第六十五条"),
        ("b2", "地方性法规", "辽宁省专利条例", "第二十二条"),
    ]
    # an entry spans lines up to the next tag
    assert patent["basis"][0]["text"].startswith("《中华人民共和国专利法》")
    assert "向人民法院起诉。" in patent["basis"][0]["text"]
    assert "(二)市专利管理部门负责本市行政区域内发生的专利案件。" in patent["basis"][1]["text"]
    assert patent["levels"] == ["2", "3"]


def test_liaoning_levels_become_lists_of_level_digits(liaoning):
    levels = {r.document["basic_code"]: r.document["levels"] for r in liaoning.rows}
    assert levels["219964005000"] == ["2", "3", "4"]
    assert levels["000524018000"] == ["4"]


def test_liaoning_type_99_is_kept_for_the_source_mapping_to_decide(liaoning):
    award = next(r.document for r in liaoning.rows if r.document["basic_code"] == "219964005000")
    assert award["item_type"] == "99"


def test_repeated_tags_and_numbered_sources_become_separate_entries(liaoning):
    tax = next(r.document for r in liaoning.rows if r.document["basic_code"] == "210430049000")
    assert [(b["kind"], b["title"], b["article"]) for b in tax["basis"]] == [
        ("法律", "中华人民共和国税收征收管理法", "第二十五条"),
        ("法律", "中华人民共和国个人所得税法", "第二条"),
        ("行政法规", "中华人民共和国个人所得税法实施条例", "第十五条"),
    ]


def test_untagged_basis_keeps_an_empty_kind_and_still_splits_by_source(liaoning):
    secrets = next(r.document for r in liaoning.rows if r.document["basic_code"] == "000176002000")
    assert [b["kind"] for b in secrets["basis"]] == ["", "", ""]
    assert secrets["basis"][1]["title"] == "中华人民共和国保守国家秘密法实施条例"


def test_reimporting_the_same_liaoning_file_yields_the_same_documents(liaoning, liaoning_bytes):
    again = read_catalogue(liaoning_bytes, "json")
    assert [r.document for r in again.rows] == [r.document for r in liaoning.rows]


def test_liaoning_record_without_name_is_a_row_error_named_by_its_own_key():
    data = json.dumps([{"职权编码": "000101001000", "事项名称": "", "事项类型": "01", "依据": "", "实施层级": "9"}])
    row = read_catalogue(data.encode(), "x.json").rows[0]
    assert row.document is None
    assert {(e["field"], e["rule"]) for e in row.errors} == {("事项名称", "required"), ("实施层级", "unknown_level")}


# ---- legal basis splitter -----------------------------------------------------------------------------

def test_tags_in_the_middle_of_a_line_open_new_entries():
    entries = split_basis("【规章】《甲办法》第三条 内容。 【规范性文件】《乙通知》（某发〔2020〕1号）第五条：内容")
    assert [(e["kind"], e["title"], e["article"]) for e in entries] == [
        ("规章", "甲办法", "第三条"), ("规范性文件", "乙通知", "第五条")]


def test_entry_without_article_has_an_empty_article():
    assert split_basis("【规范性文件】《优抚对象医疗保障办法》退役军人部发〔2022〕49号")[0]["article"] == ""


def test_empty_basis_text_gives_no_entries():
    assert split_basis("") == [] and split_basis("  \n ") == []


_title_chars = st.text(alphabet="中华人民共和国建筑法专利条例管理办法规定辽宁省", min_size=2, max_size=12)
_body_chars = st.text(alphabet="建设单位应当按照国家有关规定申请领取施工许可证，。；", min_size=1, max_size=40)
_entries = st.lists(st.tuples(st.sampled_from(BASIS_KINDS), _title_chars,
                              st.sampled_from(["第一条", "第十二条", "第六十五条", "第3条"]), _body_chars),
                    min_size=1, max_size=6)


@given(_entries)
def test_rendered_basis_splits_back_into_the_same_entries(entries):
    docs = [{"id": f"b{n}", "kind": kind, "title": title, "article": article,
             "text": f"《{title}》{article}　{body}"} for n, (kind, title, article, body) in enumerate(entries, 1)]
    assert split_basis(render_basis(docs)) == docs


@given(st.text())
def test_split_basis_never_raises_and_numbers_ids_in_order(text):
    entries = split_basis(text)
    assert [e["id"] for e in entries] == [f"b{n}" for n in range(1, len(entries) + 1)]


# ---- govhall JSON -------------------------------------------------------------------------------------

def _govhall_doc(code: str, name: str) -> dict:
    return {"basic_code": code, "name": name, "item_type": "01", "basis": [], "levels": ["3"], "state": "in_use",
            "legal_limit": {"value": 20, "unit": "workday", "note": ""}, "service_objects": ["person"],
            "conditions": [], "materials": [], "process": [], "fees": [], "faq": []}


def test_govhall_json_list_is_taken_as_is():
    docs = [_govhall_doc("000104002000", "建筑工程施工许可证核发"), _govhall_doc("000123018000", "饮用水供水单位卫生许可")]
    parsed = read_catalogue(json.dumps(docs, ensure_ascii=False).encode(), "catalogue.json")
    assert (parsed.format, parsed.source) == ("json", "govhall")
    assert [(r.row, r.document, r.errors) for r in parsed.rows] == [(1, docs[0], []), (2, docs[1], [])]


def test_govhall_json_object_with_items_is_accepted():
    doc = _govhall_doc("000104002000", "建筑工程施工许可证核发")
    parsed = read_catalogue(json.dumps({"items": [doc]}).encode(), "application/json")
    assert parsed.rows[0].document == doc


def test_govhall_entry_that_is_not_an_object_is_a_row_error():
    parsed = read_catalogue(b'[{"basic_code": "000104002000", "name": "x"}, 42]', "a.json")
    assert parsed.rows[1].row == 2 and parsed.rows[1].document is None
    assert parsed.rows[1].errors[0]["rule"] == "not_an_object"


def test_the_same_basic_code_twice_in_a_file_is_an_error_on_the_second_row():
    docs = [_govhall_doc("000104002000", "a"), _govhall_doc("000104002000", "b")]
    rows = read_catalogue(json.dumps(docs).encode(), "a.json").rows
    assert rows[0].errors == []
    assert (rows[1].errors[0]["field"], rows[1].errors[0]["rule"]) == ("basic_code", "duplicate_in_file")
    assert "row 1" in rows[1].errors[0]["message"]


def test_iter_catalogue_yields_rows_one_by_one_with_a_total():
    docs = [_govhall_doc(f"0001040020{n:02d}", f"事项{n}") for n in range(5)]
    reader = iter_catalogue(json.dumps(docs).encode(), "a.json")
    assert reader.total == 5
    first = next(iter(reader))
    assert first.row == 1 and first.document["name"] == "事项0"


# ---- templates and the column layout ------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_reads_back_as_one_valid_real_item(fmt):
    parsed = read_catalogue(write_template(fmt), f"template.{fmt}")
    assert (parsed.format, parsed.source, parsed.ignored_columns) == (fmt, "govhall", [])
    [row] = parsed.rows
    assert (row.row, row.errors, row.warnings) == (2, [], [])
    doc = row.document
    assert (doc["basic_code"], doc["name"], doc["item_type"]) == ("000104002000", "建筑工程施工许可证核发", "01")
    assert [(b["kind"], b["title"], b["article"]) for b in doc["basis"]] == [("法律", "中华人民共和国建筑法", "第七条")]
    assert doc["levels"] == ["3", "4"] and doc["state"] == "in_use"
    assert doc["legal_limit"] == {"value": 15, "unit": "workday", "note": ""}
    assert doc["materials"][0] == {"id": "m1", "name": "居民身份证", "necessity": "required", "source": "applicant",
                                   "form": "both", "originals": 1, "copies": 1, "e_license": "居民身份证", "note": ""}
    assert [c["id"] for c in doc["conditions"]] == ["c1", "c2"]
    assert set(doc) == CATALOGUE_KEYS


def test_csv_template_has_a_bom_and_chinese_headers():
    data = write_template("csv")
    assert data.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header == [c.header for c in IMPORT_COLUMNS]


def test_template_in_another_format_is_unsupported():
    with pytest.raises(UnsupportedType) as caught:
        write_template("json")
    assert caught.value.code == "unsupported_import_format"


ENGLISH_HEADER = ["basic_code", "name", "item_type", "basis", "levels", "state", "legal_limit", "legal_limit_unit",
                  "materials", "fees", "service_objects"]
SEVERAL = [
    ENGLISH_HEADER,
    ["000104002000", "建筑工程施工许可证核发", "01", "【法律】《中华人民共和国建筑法》第七条 …", "3,4", "in_use", "15",
     "workday", "居民身份证|required|applicant|both|1|1|居民身份证", "", "enterprise"],
    ["000123018000", "饮用水供水单位卫生许可", "行政许可", "", "县级、市级", "挂起", "20个工作日", "",
     "营业执照|非必要|政府部门核发|电子|0|0|营业执照\n水质检测报告|容缺后补|其他|纸质", "", "企业法人，事业单位法人"],
    ["", "", "", "", "", "", "", "", "", "", ""],
    ["210225046000", "对建筑物的外墙装饰装修影响逃生行为的处罚", "02", "", "3", "取消", "500", "工作日", "",
     "罚款|五千元以上二万元以下|《辽宁省消防条例》第四十四条", ""],
]


def _check_several(parsed: ImportFile):
    rows = _by_row(parsed)
    assert sorted(rows) == [2, 3, 5]  # the blank row 4 is skipped, numbering is the sheet's
    assert parsed.error_rows == []
    second = rows[3].document
    assert (second["item_type"], second["levels"], second["state"]) == ("01", ["4", "3"], "suspended")
    assert second["legal_limit"] == {"value": 20, "unit": "workday", "note": ""}
    assert [(m["name"], m["necessity"], m["source"], m["form"], m["originals"]) for m in second["materials"]] == [
        ("营业执照", "optional", "government", "electronic", 0),
        ("水质检测报告", "deferrable", "other", "paper", 1)]
    assert second["service_objects"] == ["enterprise", "institution"]
    third = rows[5].document
    assert third["legal_limit"] is None  # 500 is the Epoint "no legal limit" sentinel
    assert third["state"] == "cancelled"
    assert third["fees"] == [{"id": "f1", "name": "罚款", "standard": "五千元以上二万元以下",
                              "basis": "《辽宁省消防条例》第四十四条"}]


def test_csv_with_english_headers_and_several_items():
    _check_several(read_catalogue(_csv(SEVERAL), "catalogue.csv"))


def test_xlsx_built_with_openpyxl_with_several_items():
    _check_several(read_catalogue(_xlsx(SEVERAL), "catalogue.xlsx"))


def test_csv_saved_by_excel_in_gbk_is_read():
    header = [c.header for c in IMPORT_COLUMNS[:3]]
    parsed = read_catalogue(_csv([header, ["000104002000", "建筑工程施工许可证核发", "01"]], "gbk"), "a.csv")
    assert parsed.rows[0].document["name"] == "建筑工程施工许可证核发"


def test_code_typed_as_a_number_in_excel_gets_its_zeros_back_with_a_warning():
    parsed = read_catalogue(_xlsx([["基本编码", "事项名称", "事项类型"], [104002000, "建筑工程施工许可证核发", 1]]),
                            "a.xlsx")
    row = parsed.rows[0]
    assert row.errors == []
    assert (row.document["basic_code"], row.document["item_type"]) == ("000104002000", "01")
    assert [(w["field"], w["rule"]) for w in row.warnings] == [("basic_code", "code_not_text")]


def test_number_too_short_to_be_a_code_is_a_code_not_text_error():
    row = read_catalogue(_xlsx([["basic_code", "name", "item_type"], [4002000, "x", "01"]]), "a.xlsx").rows[0]
    assert row.document is None
    assert [(e["field"], e["rule"]) for e in row.errors] == [("basic_code", "code_not_text")]


def test_headers_with_a_star_or_both_languages_are_recognised_and_unknown_ones_reported():
    parsed = read_catalogue(_csv([["*基本编码", "事项名称(name)", "item_type", "备注"],
                                  ["000104002000", "建筑工程施工许可证核发", "01", "x"]]), "a.csv")
    assert parsed.rows[0].errors == []
    assert parsed.ignored_columns == ["备注"]


# ---- bad rows -----------------------------------------------------------------------------------------

BAD = [
    ["基本编码", "事项名称", "事项类型", "法定办结时限", "法定时限单位", "申请材料"],
    ["000104002000", "建筑工程施工许可证核发", "01", "15", "月", ""],
    ["000123018000", "饮用水供水单位卫生许可", "01", "十五天", "工作日", ""],
    ["000131035000", "移动式压力容器、气瓶充装许可", "01", "", "",
     "营业执照|必要|申请人自备|纸质|1|0|\n充装许可申请书|必须|申请人自备|纸质"],
    ["000131017000", "", "01", "20", "", ""],
    ["000139003000", "音像、电子出版物复制单位设立、变更审批", "15", "", "", ""],
    ["000175004000", "延期向社会开放档案审批", "01", "20", "自然日", ""],
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_bad_cells_are_row_errors_with_the_row_number_and_field(fmt):
    data = _csv(BAD) if fmt == "csv" else _xlsx(BAD)
    rows = _by_row(read_catalogue(data, f"bad.{fmt}"))
    assert {n: [(e["field"], e["rule"]) for e in r.errors] for n, r in rows.items()} == {
        2: [("legal_limit_unit", "unknown_unit")],
        3: [("legal_limit", "not_a_number")],
        4: [("materials", "unknown_necessity")],
        5: [("name", "required")],
        6: [("item_type", "unknown_item_type")],
        7: [],
    }
    assert "line 2" in rows[4].errors[0]["message"]
    assert all(r.document is None for n, r in rows.items() if n != 7)
    assert rows[7].document["legal_limit"] == {"value": 20, "unit": "calendar_day", "note": ""}


def test_a_missing_required_column_is_an_error_on_every_row():
    rows = read_catalogue(_csv([["basic_code", "item_type"], ["000104002000", "01"], ["000123018000", "01"]]),
                          "a.csv").rows
    assert [(r.row, [(e["field"], e["rule"]) for e in r.errors]) for r in rows] == [
        (2, [("name", "missing_column")]), (3, [("name", "missing_column")])]


_cell = st.one_of(st.none(), st.text(max_size=30), st.integers(-10, 10 ** 13), st.floats(allow_nan=False))


@settings(max_examples=200)
@given(st.fixed_dictionaries({}, optional={c.key: _cell for c in IMPORT_COLUMNS}))
def test_any_cells_give_either_a_document_or_errors_never_an_exception(cells):
    document, errors, warnings = document_from_cells(cells)
    assert (document is None) == bool(errors)
    assert all(set(e) == {"field", "rule", "message"} for e in errors + warnings)


# ---- unreadable and unsupported files -----------------------------------------------------------------

@pytest.mark.parametrize("data, name, fmt", [
    (b"{not json", "a.json", "json"),
    (b"\xff\xfe\x00garbage", "a.json", "json"),
    (b"42", "a.json", "json"),
    (b'{"rows": []}', "a.json", "json"),
    (b"PK\x03\x04 not really a zip", "a.xlsx", "xlsx"),
    (b"basic_code,name\n000104002000,x\n", "a.xlsx", "xlsx"),
    (b"", "a.csv", "csv"),
    (b"\x00\x01\x02binary", "a.csv", "csv"),
    (b"foo,bar\n1,2\n", "a.csv", "csv"),
])
def test_unreadable_files_are_malformed(data, name, fmt):
    with pytest.raises(Malformed) as caught:
        read_catalogue(data, name)
    assert caught.value.code == "unreadable_file"
    assert caught.value.details["format"] == fmt


@pytest.mark.parametrize("name", ["catalogue.xls", "catalogue.txt", "catalogue", ""])
def test_unknown_extensions_are_unsupported(name):
    with pytest.raises(UnsupportedType) as caught:
        read_catalogue(b"[]", name)
    assert caught.value.code == "unsupported_import_format"


def test_format_is_detected_from_a_name_an_extension_or_a_media_type():
    assert [detect_format(n) for n in ("目录.XLSX", ".csv", "json", "text/csv; charset=utf-8")] == [
        "xlsx", "csv", "json", "csv"]
