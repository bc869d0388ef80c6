"""Who may do what: the signed-in actor, roles (CONTRACT.md §1) and the scope of their region or org."""
from __future__ import annotations

import dataclasses

from items import codes
from items.errors import Forbidden

ROLES = ("province_admin", "editor", "reviewer", "reform_office", "window_staff")
ROLES_NEEDING_ORG = ("editor", "window_staff")
ROLES_NEEDING_REGION = ("reviewer", "reform_office")


@dataclasses.dataclass(frozen=True)
class Actor:
    """A signed-in staff member (or citizen, role "citizen")."""
    username: str
    role: str
    org: str | None = None
    region: str | None = None
    user_id: int | None = None

    def as_dict(self) -> dict:
        return {"username": self.username, "role": self.role, "org": self.org, "region": self.region}


def region_covers(outer: str | None, inner: str | None) -> bool:
    """True when region `outer` is `inner` or contains it (a city contains its counties)."""
    return bool(outer and inner) and codes.region_contains(outer, inner)


def region_prefix(code: str) -> str:
    """The code prefix every region inside `code` shares: 410000 → 41, 410400 → 4104, 410402 → 410402."""
    level = codes.region_level(code)
    length = {"province": 2, "city": 4, "county": 6, "township": 9}.get(level or "", len(code))
    return code[:length]


def require_role(actor: Actor, *roles: str) -> None:
    """Raise Forbidden unless the actor has one of `roles`."""
    if actor.role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)}", code="role_required",
                        details={"required": list(roles), "role": actor.role})


def can_see_item(actor: Actor, org: str, region_code: str) -> bool:
    """Editors and window staff see their org's items; reviewers and reform offices their region."""
    if actor.role == "province_admin":
        return True
    if actor.role in ROLES_NEEDING_ORG:
        return actor.org == org
    if actor.role in ROLES_NEEDING_REGION:
        return region_covers(actor.region, region_code)
    return False


def require_item_scope(actor: Actor, org: str, region_code: str) -> None:
    if not can_see_item(actor, org, region_code):
        raise Forbidden("this item belongs to another department or region", code="out_of_scope",
                        details={"org": org, "region_code": region_code})
