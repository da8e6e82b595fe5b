"""Who may see a PES's orders, invoices and sales settings: its members (owner or editor)."""
from flask import abort
from flask_login import current_user

from marketplace.extensions import db
from marketplace.pes.models import Pes


def member_pes(pes_id: int) -> Pes:
    """The PES, for its members: 404 when it does not exist, 403 for anyone else."""
    pes = db.session.get(Pes, pes_id) or abort(404)
    if current_user.membership_of(pes.id) is None:
        abort(403)
    return pes
