"""People-facing names of batch statuses, in the reader's language (pages and the JSON status)."""

from __future__ import annotations

from flask_babel import gettext as _


def status_label(status) -> str:
    key = getattr(status, "value", status)
    labels = {
        "queued": _("排队中"),
        "validating": _("校验中"),
        "applying": _("写入中"),
        "failed_validation": _("未通过校验"),
        "cancelled": _("已取消"),
        "applied": _("已导入"),
        "failed": _("处理失败"),
    }
    return labels.get(key, key)
