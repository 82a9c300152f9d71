"""What the audit view calls each action and object type, in Chinese.

Every action code the code emits has its label here; ``tests/core/test_audit_labels.py`` scans
the source and fails on a code without one. The raw code stays available to the reader (the
view shows it on hover), since it is what the API and a filter use."""

from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    # 登录与身份 (identity and access)
    "auth.login": "登录",
    "auth.logout": "退出",
    "auth.mfa_enrol": "申请绑定动态口令",
    "auth.mfa_verify": "确认绑定动态口令",
    "user.create": "新增用户",
    "user.read": "查阅用户",
    "user.lock": "锁定用户",
    "user.unlock": "解锁用户",
    "user.reset": "重置密码或动态口令",
    "user.password": "修改密码",
    "user.update": "修改用户",
    "access.denied": "越权操作被拒绝",
    "org.create": "新增机构",
    "org.update": "修改机构",
    "node.setting": "修改节点设置",
    # 一企一档 (enterprise registry)
    "enterprise.create": "登记企业",
    "enterprise.read": "查阅企业档案",
    "enterprise.reveal": "查看企业完整电话",
    "enterprise.update": "修改企业档案",
    "enterprise.import": "导入企业",
    "enterprise.export": "导出企业",
    "enterprise.export_full_numbers": "导出企业（含完整电话）",
    # 事故报送与调查 (accidents)
    "accident.report": "事故快报",
    "accident.follow_up": "事故续报",
    "accident.report_up": "事故上报",
    "accident.read": "查阅事故报告",
    "accident.reveal": "查看事故联系人完整电话",
    "investigation.open": "事故立案调查",
    "investigation.update": "记录调查结果",
    "investigation.close": "事故调查结案",
    "investigation.report": "提交事故调查报告",
    "investigation.reply": "批复事故调查报告",
    "measure.add": "登记整改措施",
    "measure.progress": "报告整改进展",
    "measure.verify": "验收整改措施",
    # 隐患排查治理 (hidden hazards)
    "hidden_hazard.report": "排查上报隐患",
    "hidden_hazard.register": "登记隐患",
    "hidden_hazard.plan": "制定整改方案",
    "hidden_hazard.start": "开始整改隐患",
    "hidden_hazard.finish": "隐患整改完成",
    "hidden_hazard.accept": "验收销号隐患",
    "hidden_hazard.reject": "验收退回隐患",
    "hidden_hazard.overdue": "隐患逾期升级",
    "hidden_hazard.photo": "上传隐患照片",
    "hidden_hazard.export": "导出隐患台账",
    "checklist.create": "新建排查清单",
    "checklist.update": "修改排查清单",
    "checklist.deactivate": "停用排查清单",
    "checklist.import": "导入排查清单",
    "inspection.complete": "完成排查任务",
    # 风险分级管控与重大危险源 (risk, major hazards)
    "risk_point.create": "新建风险点",
    "risk_point.update": "修改风险点",
    "risk_point.delete": "删除风险点",
    "major_hazard.create": "登记重大危险源",
    "major_hazard.update": "修改重大危险源",
    "major_hazard.submit": "提交重大危险源备案",
    "major_hazard.file": "重大危险源备案",
    "major_hazard.return": "退回重大危险源备案",
    # 在线监测 (monitoring)
    "monitoring_point.create": "新建监测点",
    "monitoring_point.update": "修改监测点",
    "monitoring_point.import": "导入监测点",
    "alarm.acknowledge": "确认报警",
    "alarm.handle": "处置报警",
    "alarm.close": "关闭报警",
    "alarm.escalate": "报警升级",
    "gateway.token": "签发网关凭据",
    "readings.request": "调取原始监测数据",
    # 通知指令 (directives)
    "directive.issue": "下发通知指令",
    "directive.sign": "签收通知指令",
    "directive.close": "解除挂牌督办",
    # 节点与同步 (nodes and sync)
    "node.parent": "设置上级节点",
    "node.link": "登记下级节点",
    "node.revoke": "吊销下级节点",
    "node.sync_now": "立即同步",
    "sync.receive": "接收下级数据",
    "sync.refused": "拒收下级数据",
    "sync.gap": "发现同步缺口",
    "audit.checkpoint": "封印审计链",
}

# Action prefixes offered as filters in the audit view (the service filters by prefix).
ACTION_FILTERS: dict[str, str] = {
    "auth.": "登录与身份",
    "user.": "用户管理",
    "enterprise.": "企业档案（全部）",
    "enterprise.read": "查阅企业档案",
    "enterprise.reveal": "查看企业完整电话",
    "enterprise.export": "导出企业",
    "accident.": "事故报送",
    "investigation.": "事故调查",
    "hidden_hazard.": "隐患排查治理",
    "risk_point.": "风险点",
    "major_hazard.": "重大危险源",
    "monitoring_point.": "监测点",
    "alarm.": "报警",
    "directive.": "通知指令",
    "org.": "机构管理",
    "node.": "节点管理",
    "sync.": "数据同步",
    "audit.checkpoint": "封印审计链",
    "access.denied": "越权操作被拒绝",
}

OBJECT_LABELS: dict[str, str] = {
    "enterprise": "企业",
    "user": "用户",
    "organisation": "机构",
    "node_setting": "节点设置",
    "directive": "通知指令",
    "sync_link": "节点链路",
    "accident": "事故",
    "audit_seal": "审计封印",
    "hidden_hazard": "隐患",
    "checklist": "排查清单",
    "inspection_task": "排查任务",
    "risk_point": "风险点",
    "major_hazard_source": "重大危险源",
    "monitoring_point": "监测点",
    "alarm": "报警",
}


def action_label(code: str) -> str:
    """The Chinese label of an action code (the code itself when it has none)."""
    return ACTION_LABELS.get(code, code)
