"""Input of the comparison pages: the compare-list buttons, the comparison page's switch, the save
form and the records list's paging."""

from __future__ import annotations

from marshmallow import fields, pre_load, validate

from app.core.schemas import FormSchema, QuerySchema

ID_RANGE = validate.Range(min=1, max=2**31 - 1, error="商品编号无效")


class CompareItemForm(FormSchema):
    """加入对比 / 移出对比: one product, and where to go back to."""

    product_id = fields.Integer(required=True, validate=ID_RANGE, error_messages={"required": "请指定商品"})
    next = fields.String(load_default=None, validate=validate.Length(max=500))


class CompareClearForm(FormSchema):
    next = fields.String(load_default=None, validate=validate.Length(max=500))


class CompareQuery(QuerySchema):
    # 只看差异: 1 hides the rows where every product has the same value.
    diff = fields.Boolean(load_default=False)


class SaveRecordForm(FormSchema):
    """保存为比价记录. The product ids are the ones the page showed (checked against the session);
    prices are never read from the form."""

    product_ids = fields.List(
        fields.Integer(validate=ID_RANGE),
        required=True,
        validate=validate.Length(min=2, max=4, error="比价记录需要 2–4 件商品"),
        error_messages={"required": "请先选择要对比的商品"},
    )
    title = fields.String(load_default="", validate=validate.Length(max=200, error="标题不能超过 200 个字符"))
    note = fields.String(
        load_default="", validate=validate.Length(max=1000, error="备注不能超过 1000 个字符")
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        for key in ("title", "note"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip()
        return data


class RecordListQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100, error="每页数量应在 1–100 之间")
    )
