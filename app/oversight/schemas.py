"""Input of the oversight pages (alerts, their workflow, the dashboards, the public late-payment
page): every query string and form goes through one of these, with Chinese messages, so bad input
is a 422 with field messages and never a 500.

The dashboards and the public page refuse parameters they do not know (a mistyped filter would
otherwise silently show unfiltered figures); ranges and page sizes are bounded.
"""

from __future__ import annotations

from datetime import date

from marshmallow import RAISE, ValidationError, fields, pre_load, validate, validates_schema

from app.core.schemas import FormSchema, QuerySchema
from app.oversight.dashboards import local_today
from app.oversight.models import AlertKind, AlertStatus

ID_RANGE = validate.Range(min=1, max=2**31 - 1, error="单位编号无效")
NOTE_MAX = 2000
YEAR_MIN, YEAR_MAX = 2000, 2099
DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2099, 12, 31)
MAX_SPAN_DAYS = 5 * 366
UNKNOWN_MESSAGE = "不支持的参数"


def _blank_to_missing(data, keys=None):
    """Query strings and forms send empty boxes as ``""``: treat them as not given."""
    data = dict(data)
    for key in list(data):
        if keys is not None and key not in keys:
            continue
        value = data[key]
        if isinstance(value, str):
            value = value.strip()
            if value:
                data[key] = value
            else:
                data.pop(key)
    return data


class StrictQuerySchema(QuerySchema):
    """A query string whose unknown parameters are an error, not ignored."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": UNKNOWN_MESSAGE}


# --------------------------------------------------------------------------------------------
# Alerts


class AlertQuery(QuerySchema):
    kind = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([k.value for k in AlertKind], error="预警类型取值无效"),
    )
    status = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([s.value for s in AlertStatus], error="状态取值无效"),
    )
    unit = fields.Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200, error="每页数量应在 1–200 之间")
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        for key in ("kind", "status", "unit"):
            value = data.get(key)
            if isinstance(value, str):
                data[key] = value.strip() or None
        return data


class AlertMoveForm(FormSchema):
    """知悉 / 办结 an alert, with a note (required to resolve: the service says so)."""

    to = fields.String(
        required=True,
        validate=validate.OneOf(
            [AlertStatus.ACKNOWLEDGED.value, AlertStatus.RESOLVED.value], error="操作取值无效"
        ),
        error_messages={"required": "请选择操作"},
    )
    note = fields.String(
        load_default="", validate=validate.Length(max=NOTE_MAX, error=f"说明不能超过 {NOTE_MAX} 个字")
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        for key in ("to", "note"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip()
        return data


class AlertNoteForm(FormSchema):
    note = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, error="请填写备注内容"),
            validate.Length(max=NOTE_MAX, error=f"备注不能超过 {NOTE_MAX} 个字"),
        ],
        error_messages={"required": "请填写备注内容"},
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        if isinstance(data.get("note"), str):
            data["note"] = data["note"].strip()
        return data


# --------------------------------------------------------------------------------------------
# Dashboards


class DashboardQuery(StrictQuerySchema):
    """The period (a year, or a range of dates which then wins) and how many groups a chart shows.
    A range without a start begins on 1 January of its end's year; one without an end runs to
    today. The view fills in the defaults."""

    year = fields.Integer(
        load_default=None,
        validate=validate.Range(min=YEAR_MIN, max=YEAR_MAX, error=f"年度应在 {YEAR_MIN}–{YEAR_MAX} 之间"),
    )
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    top = fields.Integer(
        load_default=10, validate=validate.Range(min=1, max=50, error="显示数量应在 1–50 之间")
    )

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_missing(data)

    @validates_schema
    def check_range(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        for key in ("date_from", "date_to"):
            day = data.get(key)
            if day is not None and not DATE_MIN <= day <= DATE_MAX:
                errors[key] = [f"日期应在 {DATE_MIN:%Y-%m-%d} 至 {DATE_MAX:%Y-%m-%d} 之间"]
        start, end = data.get("date_from"), data.get("date_to")
        if not errors and start and end and end < start:
            errors["date_to"] = ["结束日期不能早于开始日期"]
        elif not errors and (start or end):
            start, end = date_range(start, end, local_today())
            if (end - start).days >= MAX_SPAN_DAYS:
                errors["date_to" if data.get("date_to") else "date_from"] = [
                    "统计期间不能超过 5 年，请缩小日期范围"
                ]
        if errors:
            raise ValidationError(errors)


def date_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The days a dashboard period covers when a range is given: without an end it runs to today
    (or is the one day asked for, if that is in the future); without a start it begins on
    1 January of its end's year."""
    if end is None:
        end = max(today, start) if start else today
    if start is None:
        start = end.replace(month=1, day=1)
    return start, end


# --------------------------------------------------------------------------------------------
# The public late-payment page


class LatePaymentQuery(StrictQuerySchema):
    page = fields.Integer(
        load_default=1, validate=validate.Range(min=1, max=1000, error="页码应在 1–1000 之间")
    )
    per_page = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=100, error="每页数量应在 1–100 之间")
    )

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_missing(data)
