"""The codes items, bodies, places, people and cases carry: check characters, formats and builders (DOMAIN.md §2)."""
from __future__ import annotations

import datetime
import re

from items.errors import invalid

# --- 统一社会信用代码, GB 32100 -------------------------------------------------------------------

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z: GB 32100 §4
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_ALPHABET)}


def credit_code_check_char(first17: str) -> str:
    """Return the GB 32100 check character for a 17-character prefix, or "" when the prefix is malformed."""
    if not isinstance(first17, str) or len(first17) != 17 or any(c not in _CREDIT_VALUE for c in first17):
        return ""
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, CREDIT_WEIGHTS))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(s: object) -> bool:
    """Return True when `s` is an 18-character credit code whose last character is its check character."""
    return isinstance(s, str) and len(s) == 18 and credit_code_check_char(s[:17]) == s[17]


def make_credit_code(prefix17: str) -> str:
    """Return `prefix17` completed with its check character. Raises Invalid when the prefix is malformed."""
    check = credit_code_check_char(prefix17)
    if not check:
        raise invalid("a credit code prefix is 17 characters over 0-9A-HJ-NPQRTUWXY",
                      "/credit_code", "credit_code_format", code="invalid_credit_code")
    return prefix17 + check


def credit_code_region(code: str) -> str | None:
    """Return the 6-digit region code inside a credit code (characters 3–8), or None if they are not digits."""
    if not isinstance(code, str) or len(code) < 8 or not code[2:8].isdigit():
        return None
    return code[2:8]


# --- 行政区划代码, GB/T 2260 ------------------------------------------------------------------------

# The province-level prefixes GB/T 2260 assigns (11 北京 … 65 新疆, 71 台湾, 81 香港, 82 澳门).
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82"
    .split())
REGION_LEVELS = ("province", "city", "county", "township", "village")
_PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}


def is_valid_region_code(code: object) -> bool:
    """Return True for a GB/T 2260 code: 6 digits (province/city/county) or 12 (down to village)."""
    if not isinstance(code, str) or len(code) not in (6, 12) or not code.isdigit():
        return False
    if code[:2] not in PROVINCE_PREFIXES:
        return False
    if code[2:4] == "00" and code[4:6] != "00":  # no county hangs directly under a province without a city part
        return False
    if len(code) == 12 and code[6:9] == "000" and code[9:] != "000":  # a village lies inside a township
        return False
    return True


def region_level(code: str) -> str | None:
    """Return "province", "city", "county", "township" or "village" for a valid code, else None.

    A 12-digit code ending in 000000 names the same place as its 6-digit prefix.
    """
    if not is_valid_region_code(code):
        return None
    if len(code) == 12:
        if code[9:] != "000":
            return "village"
        if code[6:9] != "000":
            return "township"
    if code[2:6] == "0000":
        return "province"
    if code[4:6] == "00":
        return "city"
    return "county"


def parent_region(code: str) -> str | None:
    """Return the code of the enclosing place by the code's structure, or None for a province or invalid code.

    Village → its township (12 digits); township → its county (6 digits); county → xxxx00; city → xx0000.
    Structure only: a county directly under a province (e.g. 429004) gets the structural xxxx00 parent.
    """
    level = region_level(code)
    if level == "village":
        return code[:9] + "000"
    if level == "township":
        return code[:6]
    if level == "county":
        return code[:4] + "00"
    if level == "city":
        return code[:2] + "0000"
    return None


def region_contains(outer: str, inner: str) -> bool:
    """Return True when `inner` lies within `outer` or is the same place; False when either is invalid."""
    outer_level, inner_level = region_level(outer), region_level(inner)
    if outer_level is None or inner_level is None:
        return False
    if REGION_LEVELS.index(inner_level) < REGION_LEVELS.index(outer_level):
        return False
    prefix = outer[:_PREFIX_LENGTH[outer_level]]
    return inner.ljust(12, "0").startswith(prefix)


# --- 事项类型 and 行使层级, GB/T 39046 A.1 / A.2 ------------------------------------------------------

ITEM_TYPES = {
    "01": "行政许可", "02": "行政处罚", "03": "行政强制", "04": "行政征收", "05": "行政给付",
    "06": "行政检查", "07": "行政确认", "08": "行政奖励", "09": "行政裁决", "10": "其他行政权力",
    "20": "公共服务",
    "99": "其他",  # Liaoning's catalogue files 表彰奖励 and the like here
}
_NATIONAL_TYPES = {code: code for code in ITEM_TYPES if code != "99"}

# Per-source renumbering, DOMAIN.md §2: values as each source writes them → the national code.
ITEM_TYPE_SOURCES: dict[str, dict[str, str]] = {
    "national": dict(_NATIONAL_TYPES),
    "liaoning": {**_NATIONAL_TYPES, "99": "99"},
    # Sichuan writes the type unpadded: taskType 1 = 行政许可, 20 = 公共服务
    "sichuan": {**_NATIONAL_TYPES, **{str(int(code)): code for code in _NATIONAL_TYPES}},
    # one Guangdong table numbers 公共服务 as 21
    "guangdong": {**_NATIONAL_TYPES, "21": "20"},
}
_TYPE_BY_LABEL = {label: code for code, label in ITEM_TYPES.items() if code != "99"}

LEVELS = {"1": "国家", "2": "省", "3": "市", "4": "县", "5": "乡镇街道", "6": "村社区", "7": "分级管理"}


def normalize_item_type(value: object, source: str = "national") -> str | None:
    """Return the national 2-digit item type for `value` as `source` writes it, or None if unknown.

    Accepts the source's codes (str or int) and the Chinese labels (行政许可 …). An unknown source
    returns None for every value.
    """
    mapping = ITEM_TYPE_SOURCES.get(source)
    if mapping is None or value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if text in mapping:
        return mapping[text]
    return _TYPE_BY_LABEL.get(text)


# --- 基本编码 and 实施编码 ---------------------------------------------------------------------------

_BASIC_CODE = re.compile(r"[0-9]{12}")


def is_valid_basic_code(code: object) -> bool:
    """Return True for a 12-digit basic code: [2 source][2 item type][2 department][3 seq][3 sub-seq]."""
    return isinstance(code, str) and _BASIC_CODE.fullmatch(code) is not None


def basic_code_item_type(code: str) -> str | None:
    """Return the item-type part (characters 3–4) of a valid basic code, else None."""
    return code[2:4] if is_valid_basic_code(code) else None


def is_valid_level(level: object) -> bool:
    """Return True for a single GB/T 39046 level digit "1".."7"."""
    return isinstance(level, str) and level in LEVELS


def make_impl_code(credit: str, level: str, basic: str) -> str:
    """Return the 31-char implementation code credit (18) + level (1) + basic code (12).

    Raises Invalid (details say which part) when a part is malformed.
    """
    for ok, field, rule in ((is_valid_credit_code(credit), "credit_code", "credit_code_check_char"),
                            (is_valid_level(level), "level", "enum"),
                            (is_valid_basic_code(basic), "basic_code", "basic_code_format")):
        if not ok:
            raise invalid(f"cannot build an implementation code: {field} is not valid",
                          f"/{field}", rule, code="invalid_impl_code")
    return credit + level + basic


def split_impl_code(code: str) -> tuple[str, str, str]:
    """Return (credit code, level, basic code) of a 31-char code. Raises Invalid when it is not 31 chars."""
    if not isinstance(code, str) or len(code) != 31:
        raise invalid("an implementation code is 31 characters",
                      "/impl_code", "impl_code_format", code="invalid_impl_code")
    return code[:18], code[18], code[19:]


def is_valid_impl_code(code: object) -> bool:
    """Return True when all three parts of a 31-char implementation code are valid."""
    if not isinstance(code, str) or len(code) != 31:
        return False
    credit, level, basic = code[:18], code[18], code[19:]
    return is_valid_credit_code(credit) and is_valid_level(level) and is_valid_basic_code(basic)


# --- 办件编号 ------------------------------------------------------------------------------------------

CASE_NO_LENGTH = 43  # 实施编码 (31) + yyyyMMdd + 4-digit serial; DOMAIN.md §2 allows up to 50 elsewhere


def make_case_no(impl_code: str, date: datetime.date, serial: int) -> str:
    """Return the 43-char case number impl_code + yyyyMMdd + 4-digit serial (1..9999).

    Raises Invalid when the implementation code is malformed or the serial is out of range.
    """
    if not is_valid_impl_code(impl_code):
        raise invalid("a case number starts with a valid implementation code",
                      "/impl_code", "impl_code_format", code="invalid_case_no")
    if isinstance(serial, bool) or not isinstance(serial, int) or not 1 <= serial <= 9999:
        raise invalid("a case serial is 1..9999 per code and day",
                      "/serial", "case_serial_range", code="invalid_case_no")
    return f"{impl_code}{date:%Y%m%d}{serial:04d}"


def is_valid_case_no(case_no: object) -> bool:
    """Return True for a 43-char case number with a valid implementation code, date and serial."""
    if not isinstance(case_no, str) or len(case_no) != CASE_NO_LENGTH:
        return False
    tail = case_no[31:]
    if not tail.isdigit() or tail[8:] == "0000" or _parse_date(tail[:8]) is None:
        return False
    return is_valid_impl_code(case_no[:31])


def _parse_date(yyyymmdd: str) -> datetime.date | None:
    try:
        return datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


# --- 居民身份证号, GB 11643 ---------------------------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # ISO 7064 MOD 11-2: index = Σ digit × weight mod 11


def id_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for 17 digits, or "" when they are not 17 digits."""
    if not isinstance(first17, str) or len(first17) != 17 or not first17.isdigit() or not first17.isascii():
        return ""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def make_id_number(first17: str) -> str:
    """Return `first17` completed with its check character. Raises Invalid when not 17 digits."""
    check = id_check_char(first17)
    if not check:
        raise invalid("an ID number prefix is 17 digits", "/id_number", "id_number_format", code="invalid_id_number")
    return first17 + check


def is_valid_id_number(s: object, *, today: datetime.date | None = None) -> bool:
    """Return True for an 18-char ID number with a real birth date and a correct check character.

    Only an upper-case X is accepted as the check character; pass `today` to reject future births.
    """
    if not isinstance(s, str) or len(s) != 18 or s[:2] not in PROVINCE_PREFIXES:
        return False
    born = _parse_date(s[6:14]) if s[6:14].isdigit() else None
    if born is None or born.year < 1900 or (today is not None and born > today):
        return False
    return id_check_char(s[:17]) == s[17]


# --- masking for display (DOMAIN.md §5: never show a full ID number) ---------------------------------

def _mask(s: str, head: int, tail: int) -> str:
    if not isinstance(s, str):
        return ""
    if len(s) <= head + tail:
        return "*" * len(s)
    return s[:head] + "*" * (len(s) - head - tail) + s[-tail:]


def mask_id_number(s: str) -> str:
    """Return the ID number with only its first 3 and last 4 characters shown: 110***********123X."""
    return _mask(s, 3, 4)


def mask_phone(s: str) -> str:
    """Return the phone number with only its first 3 and last 4 digits shown: 138****5678."""
    return _mask(s, 3, 4)
