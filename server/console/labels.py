"""The console's Chinese words: element names, rule messages, statuses, roles, and error codes, one table each."""
from __future__ import annotations

from items.codes import ITEM_TYPES, LEVELS
from items.history import ENTRY_LABELS, LABELS, UNIT_LABELS, VALUE_LABELS, display

# Element names come from items/history.py (the change summaries use them too): one table for forms and diffs.
FIELD_LABELS = LABELS
ENTRY_FIELD_LABELS = dict(ENTRY_LABELS, id="标识", limit="时限")
ITEM_TYPE_LABELS = ITEM_TYPES
LEVEL_LABELS = LEVELS

# One entry for every rule code the console may show: items/rules.py, the editing locks of items/local.py,
# conformance kinds (items/conformance.py), rebase conflicts (items/rebase.py) and workflow checks.
RULE_MESSAGES = {
    "required": "必填，不能为空",
    "type": "格式不对",
    "enum": "取值不在可选范围内",
    "unknown_field": "不是事项要素",
    "basic_code_format": "基本编码应为12位",
    "basic_code_type": "基本编码第3-4位应与事项类型一致",
    "impl_code_format": "实施编码应为31位：统一社会信用代码(18)+层级(1)+基本编码(12)",
    "impl_code_matches": "实施编码应等于统一社会信用代码+行使层级+基本编码",
    "credit_code_format": "统一社会信用代码应为18位",
    "credit_code_check_char": "统一社会信用代码校验位不正确",
    "region_code_format": "行政区划代码应为6位或12位",
    "entry_id": "每一项都需要标识",
    "entry_id_unique": "标识在列表中重复",
    "legal_limit_value": "法定时限应为不小于0的数字",
    "limit_value": "时限应为不小于0的数字",
    "suspicious_limit": "时限在500天以上，可能是“无时限”的占位值",
    "promised_within_legal": "承诺时限不能超过法定时限",
    "instant_iff_zero_promised": "承诺时限为0即为即办件，即办件的承诺时限应为0",
    "full_online_zero_visits": "全程网办（深度IV）的事项到办事现场次数应为0",
    "no_visit_needs_express": "零跑动且非全程网办的事项，办理渠道应包含邮寄",
    "fee_needs_basis": "收费项目应填写名称、收费标准和收费依据",
    "phones_differ": "投诉电话应与咨询电话不同",
    "visits_range": "到办事现场次数应为0到5的整数",
    "material_counts": "原件和复印件份数应为不小于0的整数",
    "basis_kind": "设定依据类别应为法律、行政法规、地方性法规、规章、规范性文件等",
    "four_same_locked": "四级四同要素由基本目录确定，不能在此修改",
    "catalogue_owned": "该要素由基本目录确定，目录变更请通过同步目录带入",
    "claim_fixed": "认领时已确定，不能修改",
    "immutable": "不能修改",
    "comment_required": "请填写理由",
    "four_same_deviation": "与基本目录不一致（四级四同）",
    "four_same_outdated": "基本目录新版本已修改此要素，请同步目录",
    "catalogue_owned_changed": "该要素由基本目录确定，不能在本地修改",
    "material_added": "基本目录未要求的材料，须在备注中说明理由（层层加码）",
    "material_dropped": "基本目录要求的材料被删除，须说明理由",
    "local_element": "本地要素与基本目录不同",
    "reordered": "顺序与基本目录不同",
    "changed_on_both_sides": "本地和基本目录都修改了此处",
    "conflict_resolved": "请为每个冲突选择处理方式",
    "rebase_forward": "目录版本不能早于当前依据的版本",
    "validation_failed": "内容未通过校验",
    # the directory and staff accounts (items/directory.py, items/staff.py, items/directory_import.py)
    "region_code": "应为6位或12位的行政区划代码（GB/T 2260）",
    "region_level": "目录只收省、市、县、乡镇四级区划",
    "level_matches_code": "层级应与区划代码一致",
    "level_matches_region": "部门的层级应与所在区划的层级一致",
    "name_length": "名称太长",
    "province_has_no_parent": "省级区划没有上级区划",
    "parent_exists": "上级区划不在目录中",
    "parent_contains": "上级区划不包含该区划代码",
    "region_exists": "该区划不在目录中",
    "org_exists": "该部门不在目录中",
    "name_unique_in_region": "同一区划内已有同名部门",
    "unique_in_file": "与文件中另一行重复",
    "department_in_use": "部门已有工作人员或本地事项，不能改变所在区划和层级",
    "credit_code": "应填写有效的统一社会信用代码",
    "username_format": "用户名为1-64个字母、数字或 . _ @ -，以字母或数字开头",
    "password_length": "密码应为8到256个字符",
    "current_password": "当前密码不正确",
}
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}

STATUS_LABELS = {"draft": "草稿", "submitted": "已提交审核", "approved": "审核通过", "published": "已发布",
                 "withdrawn": "已撤回发布"}
ROLE_LABELS = {"province_admin": "省级管理员", "editor": "事项编辑", "reviewer": "审核人员",
               "reform_office": "改革办", "window_staff": "窗口人员"}

# What a failed request says to staff, by the API's error code (messages of the API are English).
ERROR_MESSAGES = {
    "not_signed_in": "请先登录。", "invalid_token": "登录已过期，请重新登录。",
    "session_ended": "账号的角色、范围或密码已变更，请重新登录。",
    "bad_credentials": "用户名或密码不正确。", "too_many_attempts": "登录失败次数过多，请稍后再试。",
    "sign_in_busy": "登录繁忙，请稍后再试。",
    "role_required": "您的角色不能进行此操作。", "out_of_scope": "该事项属于其他部门或地区。",
    "item_not_found": "没有找到该事项。", "version_not_found": "没有找到该版本。",
    "not_found": "没有找到该页面或事项。", "already_claimed": "本部门已在该层级认领过此事项。",
    "item_in_review": "事项正在审核中，撤回后才能修改。", "stale_version": "已有他人保存了新版本。",
    "status_changed": "事项状态已被他人改变，请刷新后重试。", "validation_failed": "内容未通过校验，请按提示修改。",
    "level_applies": "该事项不适用于此层级。", "catalogue_in_use": "该目录事项不在用。",
    "xsrf": "请求缺少有效的安全令牌（CSRF），已被拒绝。请刷新页面后重试。",
    "unresolved_conflicts": "还有冲突没有选择处理方式。", "rebase_backwards": "事项已依据更新的目录版本。",
    "comment_required": "请填写理由。", "wrong_status": "事项当前状态不能进行此操作，请刷新后重试。",
    "forbidden": "您没有权限进行此操作。", "internal": "系统出错，请联系管理员。",
    "region_exists": "该区划代码已在目录中。", "region_in_use": "该区划仍在使用，不能删除",
    "department_exists": "该统一社会信用代码已在目录中。", "department_in_use": "该部门仍在使用，不能删除或改变所在区划和层级",
    "region_not_found": "没有找到该区划。", "department_not_found": "没有找到该部门。",
    "user_not_found": "没有找到该账号。", "user_exists": "该用户名已被使用。",
    "last_province_admin": "这是最后一个在用的省级管理员账号，不能停用或改变角色。",
    "import_not_found": "检查过的文件已失效，请重新上传。",
}


def rule_message(rule: str, fallback: str = "") -> str:
    """The Chinese sentence for a rule code; the API's own message when the table lacks it."""
    return RULE_MESSAGES.get(rule, fallback or rule)


def error_message(code: str, fallback: str = "") -> str:
    return ERROR_MESSAGES.get(code, fallback or "操作未能完成。")


def value_label(field: str, value) -> str:
    """A field's value as staff read it: 即办件, 全程网办, 10 工作日 (items/history.py `display`)."""
    return display(field, value)


def path_label(path: str) -> str:
    """A JSON pointer in words: /materials/2/name → 申请材料 第3项 名称; /materials/m3 → 申请材料 m3."""
    parts = [p for p in path.split("/") if p != ""]
    if not parts:
        return "整个事项"
    words = [FIELD_LABELS.get(parts[0], parts[0])]
    for part in parts[1:]:
        if part.isdigit():
            words.append(f"第{int(part) + 1}项")
        else:
            words.append(ENTRY_FIELD_LABELS.get(part, FIELD_LABELS.get(part, part)))
    return " ".join(words)


__all__ = ["FIELD_LABELS", "ENTRY_FIELD_LABELS", "VALUE_LABELS", "UNIT_LABELS", "RULE_MESSAGES", "STATUS_LABELS",
           "ROLE_LABELS", "SEVERITY_LABELS", "rule_message", "error_message", "value_label", "path_label"]
