"""What people bring and write in the demonstration: identity materials, fees, staff passwords, citizens'
names and the opinions staff and citizens write on cases."""
from __future__ import annotations


# Materials every item of a service object brings (name, source, e-licence).
IDENTITY_MATERIALS = {
    "person": ("居民身份证", "government", "居民身份证"),
    "enterprise": ("营业执照", "government", "营业执照"),
    "institution": ("事业单位法人证书", "government", "事业单位法人证书"),
    "social_org": ("社会团体法人登记证书", "government", "社会团体法人登记证书"),
}
OBJECT_LETTERS = {"p": "person", "e": "enterprise", "i": "institution", "s": "social_org"}

# Fees with their legal basis (DOMAIN.md §3: a fee names its standard and basis).
FEES = {
    "idcard": ("居民身份证工本费", "20元/证",
               "《国家发展改革委 财政部关于居民身份证收费标准及有关问题的通知》（发改价格〔2003〕2322号）"),
    "tempid": ("临时居民身份证工本费", "10元/证",
               "《国家发展改革委 财政部关于居民身份证收费标准及有关问题的通知》（发改价格〔2003〕2322号）"),
    "passport": ("普通护照工本费", "120元/本",
                 "《国家发展改革委 财政部关于降低部分行政事业性收费标准的通知》（发改价格规〔2019〕914号）"),
    "hkmo": ("往来港澳通行证工本费", "60元/证",
             "《国家发展改革委 财政部关于降低部分行政事业性收费标准的通知》（发改价格规〔2019〕914号）"),
    "license": ("机动车驾驶证工本费", "10元/本",
                "《国家发展改革委 财政部关于公安交通管理收费标准及有关问题的通知》（发改价格〔2004〕2831号）"),
    "estate": ("不动产登记费", "住宅80元/件，非住宅550元/件",
               "《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》（发改价格规〔2016〕2559号）"),
}


STAFF_PASSWORDS = {
    "province_admin": "demo-admin", "editor": "demo-editor", "reviewer": "demo-reviewer",
    "reform_office": "demo-reform", "window_staff": "demo-window",
}

# --- the branch hall: demonstration citizens, and what staff and citizens write on cases ----------------

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高"
GIVEN_NAMES = ("建国", "秀英", "志强", "丽娟", "海涛", "桂兰", "俊杰", "晓燕", "文博", "淑珍", "国庆", "雪梅",
               "子轩", "欣怡", "明", "静", "磊", "敏", "浩然", "梓涵", "振华", "玉兰", "宇航", "佳怡")
STREETS = ("建设路", "中兴路", "光明路", "矿工路", "开源路", "湛河北路", "凌云路", "新华路", "体育路", "和平路")
STEP_OPINIONS = ("材料齐全，符合法定形式", "经审查，符合办理条件", "情况属实，拟同意办理", "同意", "复核无误")
CORRECTION_OPINIONS = (
    "请补正：申请表未签字，请申请人签字后重新上传",
    "请补正：上传的材料扫描件不清晰，请重新上传清晰的原件扫描件",
    "请补正：缺少房屋产权证明或租赁合同，请补充上传",
)
SUSPEND_OPINIONS = ("需进行现场核查，依法中止计时，核查完成后恢复办理", "需组织专家评审，评审期间不计入办理时限")
REJECT_OPINIONS = ("申请事项不属于本机关职权范围，请向有管辖权的机关申请", "申请人不具备申请资格，依法不予受理",
                   "同一事项已在办理中，请勿重复申请")
REFUSE_OPINIONS = ("经审查，申请不符合法定条件，依法作出不予许可决定", "经现场核查，实际情况与申请材料不符，不予办理")
FINISH_OPINIONS = ("准予办理，办理结果已生成", "审核通过，准予办理")
DELIVER_OPINIONS = ("已通过邮寄送达", "申请人已到窗口领取", "电子证照已推送至申请人")
RATING_COMMENTS = {
    "very_satisfied": ("办事效率很高，工作人员很耐心", "网上就办好了，一次都没跑", "比承诺时间提前办结，点赞", ""),
    "satisfied": ("整体顺利，工作人员态度好", "流程清楚，办理较快", ""),
    "basic": ("材料要求说明可以再清楚一些", "等候时间稍长"),
    "dissatisfied": ("超过承诺时间才办结，也没有提前告知", "补正要求没有一次性说清楚，来回跑了两趟"),
    "very_dissatisfied": ("不予办理的理由没有解释清楚，电话一直打不通",),
}
FOLLOW_UP_COMMENTS = ("工作人员主动回电说明了情况，问题已解决",)
RECTIFICATION_ANSWERS = (
    "已致电申请人说明情况并致歉，窗口已调整人员安排，缩短审查周期",
    "已核实情况，向申请人当面解释不予办理的依据，并完善了一次性告知单",
)
