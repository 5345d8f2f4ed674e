from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from app.auth.passwords import password_problems
from app.core.schemas import FormSchema


class LoginSchema(FormSchema):
    username = fields.String(
        required=True, validate=validate.Length(min=1, max=64), error_messages={"required": "请输入用户名"}
    )
    password = fields.String(
        required=True, validate=validate.Length(min=1, max=256), error_messages={"required": "请输入密码"}
    )
    next = fields.String(load_default=None, validate=validate.Length(max=500))


class PasswordChangeSchema(FormSchema):
    current_password = fields.String(
        required=True, validate=validate.Length(min=1, max=256), error_messages={"required": "请输入当前密码"}
    )
    new_password = fields.String(
        required=True, validate=validate.Length(min=1, max=256), error_messages={"required": "请输入新密码"}
    )
    confirm_password = fields.String(
        required=True,
        validate=validate.Length(min=1, max=256),
        error_messages={"required": "请再次输入新密码"},
    )

    @validates_schema
    def check_new_password(self, data, **kwargs):
        problems = password_problems(data["new_password"], username=self.context_username)
        if problems:
            raise ValidationError("；".join(problems), "new_password")
        if data["new_password"] != data["confirm_password"]:
            raise ValidationError("两次输入的新密码不一致", "confirm_password")
        if data["new_password"] == data["current_password"]:
            raise ValidationError("新密码不能与当前密码相同", "new_password")

    def __init__(self, *args, username: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.context_username = username
