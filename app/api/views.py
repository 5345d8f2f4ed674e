"""Pages where an organization's admins manage its API tokens (placeholder until built)."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")


@bp.get("/")
@login_required
def token_list():
    return render_template("api/token_list.html", tokens=[])
