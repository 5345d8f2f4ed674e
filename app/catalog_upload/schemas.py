"""Input of the catalog upload pages (the file itself is checked by the service and the job)."""

from __future__ import annotations

from marshmallow import fields, pre_load, validate

from app.core.schemas import FormSchema, QuerySchema

CATEGORY_CODE = validate.Regexp(r"^[A-C]\d{2,8}$", error="品目编码格式不正确，请从列表中选择品目")
FORMATS = validate.OneOf(["xlsx", "csv"], error="格式应为 xlsx 或 csv")


def _strip(data, keys):
    data = dict(data)
    for key in keys:
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    return data


class TemplateQuery(QuerySchema):
    """下载模板: a leaf category with an attribute registry, and the format."""

    category = fields.String(required=True, validate=CATEGORY_CODE, error_messages={"required": "请选择品目"})
    format = fields.String(load_default="xlsx", validate=FORMATS)

    @pre_load
    def clean(self, data, **kwargs):
        return _strip(data, ("category", "format"))


class UploadForm(FormSchema):
    category = fields.String(required=True, validate=CATEGORY_CODE, error_messages={"required": "请选择品目"})

    @pre_load
    def clean(self, data, **kwargs):
        data = _strip(data, ("category",))
        if data.get("category") == "":
            data.pop("category")
        return data


class BatchListQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100, error="每页数量应在 1–100 之间")
    )


class ReportQuery(QuerySchema):
    format = fields.String(load_default="xlsx", validate=FORMATS)
