"""Open data: ``GET /open-data/ocds/releases.json``, an OCDS 1.1 release package of the mall's
transactions — one release per confirmed order (see :mod:`app.oversight.ocds` for what each
field means), public, no login, rate limited with the notices (``PUBLIC_RATE_LIMIT``).

Parameters (unknown ones are ignored):

- ``since`` / ``until``: the transactions confirmed from ``since`` (inclusive) until ``until``
  (exclusive). Each is a day in China (``2026-11-01``; as ``until`` the whole day is included)
  or an ISO 8601 date-time with its offset (``2026-11-01T08:00:00+08:00``, ``…Z``).
- ``limit``: releases per page, 1–100 (default 100).
- ``cursor``: where the next page starts; taken from ``links.next``, never built by hand.

Releases come oldest transaction first, ordered by (confirmation time, order id), and ``links.next``
carries an opaque cursor of the last release's position: a harvester following it sees every
transaction once even while new ones are confirmed (they sort after everything already
published). The last page has no ``links.next``. An empty result is a package with no releases.

Any site may read the package from a browser (``Access-Control-Allow-Origin: *``; no
credentials are involved). Bad input answers 400 with a JSON body
``{"code", "status", "message", "errors": {field: [...]}}`` in Chinese; too many requests answer
429 in the same shape, with ``Retry-After``.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from app.catalog.charts import LOCAL_TZ
from app.core.db import utcnow
from app.core.schemas import QuerySchema
from app.extensions import db
from app.orders.models import Order
from app.oversight import ocds
from app.oversight.notices import FIRST_DAY, LAST_DAY, NOTICE_LOAD, public_limit, published

bp = Blueprint("open_data", __name__, url_prefix="/open-data")

DEFAULT_LIMIT = MAX_LIMIT = 100
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Moment(fields.Field):
    """A day in China (``2026-11-01``) or an ISO 8601 date-time with its offset. As the end of a
    range (``end=True``) a day means up to the start of the next day."""

    default_error_messages = {
        "invalid": "应为日期（如 2026-11-01）或带时区的时间（如 2026-11-01T08:00:00+08:00）",
        "naive": "时间须带时区，如 2026-11-01T08:00:00+08:00 或 2026-11-01T00:00:00Z",
        "range": "日期应在 2000-01-01 至 2099-12-31 之间",
    }

    def __init__(self, *, end: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.end = end

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        text = value.strip()
        try:
            if _DAY.match(text):
                day = date.fromisoformat(text)
                if not FIRST_DAY <= day <= LAST_DAY:
                    raise self.make_error("range")
                start = day + timedelta(days=1) if self.end else day
                return datetime.combine(start, time.min, tzinfo=LOCAL_TZ)
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise self.make_error("invalid") from None
        if moment.tzinfo is None:
            raise self.make_error("naive")
        if not FIRST_DAY <= moment.date() <= LAST_DAY:
            raise self.make_error("range")
        return moment


class Cursor(fields.Field):
    """The opaque position of the last release of a page: (confirmation time, order id)."""

    default_error_messages = {"invalid": "翻页标记无效，请从第一页重新开始"}

    def _deserialize(self, value, attr, data, **kwargs) -> tuple[datetime, int]:
        if not isinstance(value, str) or not 1 <= len(value) <= 200:
            raise self.make_error("invalid")
        try:
            text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
            stamp, _sep, number = text.partition("|")
            moment, order_id = datetime.fromisoformat(stamp), int(number)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise self.make_error("invalid") from None
        if moment.tzinfo is None or not 1 <= order_id <= 2**63 - 1 or not 2000 <= moment.year <= 2100:
            raise self.make_error("invalid")
        return moment, order_id


def encode_cursor(order: Order) -> str:
    text = f"{order.confirmed_at.isoformat()}|{order.id}"
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


class ReleaseQuery(QuerySchema):
    since = Moment(load_default=None, allow_none=True)
    until = Moment(end=True, load_default=None, allow_none=True)
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT, error=f"每页数量应在 1–{MAX_LIMIT} 之间"),
    )
    cursor = Cursor(load_default=None, allow_none=True)

    @validates_schema
    def check_range(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("起始时间须早于截止时间", "until")


def _json_error(code: int, status: str, message: str, errors: dict | None = None):
    body: dict = {"code": code, "status": status, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), code


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    """This blueprint speaks JSON, whatever the client accepts (429 included)."""
    db.session.rollback()
    code = exc.code or 500
    titles = {404: _("不存在"), 405: _("不支持的操作"), 429: _("请求过于频繁")}
    messages = {429: _("请求过于频繁，请稍后再试。")}
    response, _code = _json_error(
        code, titles.get(code, _("请求无效")), messages.get(code, _("请求无法处理。"))
    )
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    retry_after = getattr(exc, "retry_after", None)
    if retry_after and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(retry_after)
    return response, code


@bp.get("/ocds/releases.json")
@public_limit
def releases():
    names = ReleaseQuery().fields
    raw = {key: value for key, value in request.args.items() if key in names and value.strip()}
    try:
        args = ReleaseQuery().load(raw)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return _json_error(400, _("请求无效"), _("查询参数有误，请按提示修改。"), messages)

    query = sa.select(Order).where(published())
    if args["since"]:
        query = query.where(Order.confirmed_at >= args["since"])
    if args["until"]:
        query = query.where(Order.confirmed_at < args["until"])
    if args["cursor"]:
        after, after_id = args["cursor"]
        query = query.where(
            sa.or_(Order.confirmed_at > after, sa.and_(Order.confirmed_at == after, Order.id > after_id))
        )
    limit = args["limit"]
    orders = list(
        db.session.scalars(
            query.options(*NOTICE_LOAD, selectinload(Order.history))
            .order_by(Order.confirmed_at, Order.id)
            .limit(limit + 1)
        )
    )
    next_url = None
    if len(orders) > limit:
        orders = orders[:limit]
        kept = {key: raw[key] for key in ("since", "until") if raw.get(key)}
        next_url = url_for(
            "open_data.releases", _external=True, **kept, limit=limit, cursor=encode_cursor(orders[-1])
        )
    prefix = current_app.config.get("OCDS_OCID_PREFIX", "ocds-emall")
    package = ocds.build_package(
        [ocds.build_release(order, prefix=prefix) for order in orders],
        uri=request.url,
        publisher=current_app.config.get("OCDS_PUBLISHER_NAME", "政府采购电子卖场"),
        published=ocds.package_date(orders, utcnow()),
        next_url=next_url,
    )
    response = current_app.response_class(ocds.dumps(package), mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it (no cookies)
    return response
