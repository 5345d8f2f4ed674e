"""Marshmallow conventions shared by every feature: Chinese messages and the base schemas.

Field error messages are set once here (marshmallow's defaults are English) so every form and
every API answer speaks the same language.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields

_MESSAGES: dict[type[fields.Field], dict[str, str]] = {
    fields.Field: {"required": "此项为必填项", "null": "此项不能为空", "validator_failed": "取值无效"},
    fields.String: {"invalid": "应为文本", "invalid_utf8": "文本编码无效"},
    fields.Integer: {"invalid": "应为整数", "too_large": "数值过大"},
    fields.Number: {"invalid": "应为数字", "too_large": "数值过大"},
    fields.Decimal: {"special": "不是有效的数字"},
    fields.Boolean: {"invalid": "应为是或否"},
    fields.DateTime: {"invalid": "日期时间格式不正确", "format": "日期时间格式不正确"},
    fields.Date: {"invalid": "日期格式不正确", "format": "日期格式不正确"},
    fields.List: {"invalid": "应为列表"},
    fields.Dict: {"invalid": "应为对象"},
    fields.Nested: {"type": "格式不正确"},
}
for _field, _messages in _MESSAGES.items():
    _field.default_error_messages = {**_field.default_error_messages, **_messages}


class FormSchema(Schema):
    """Input from HTML forms: the CSRF token and buttons' names are not data, so unknown keys are
    dropped rather than refused."""

    class Meta:
        unknown = EXCLUDE


class QuerySchema(FormSchema):
    """Query-string input (pagination, filters): unknown parameters are ignored."""


class ApiSchema(Schema):
    """JSON input from machine clients: an unknown field is a mistake worth reporting."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "未知字段", "type": "请求体应为 JSON 对象"}
