"""Who may do what: the signed-in actor, roles (CONTRACT.md §1) and the one scope of items each actor may see."""
from __future__ import annotations

import dataclasses

from items import codes
from items.errors import Forbidden

ROLES = ("province_admin", "editor", "reviewer", "reform_office", "window_staff")
ROLES_NEEDING_ORG = ("editor", "window_staff")
ROLES_NEEDING_REGION = ("reviewer", "reform_office")
CITIZEN = "citizen"


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


@dataclasses.dataclass(frozen=True)
class ItemScope:
    """The local items (and the cases and figures drawn from them) an actor may see: every item
    (both None), one department's (`org`) or those of one region and the regions inside it (`region`)."""
    org: str | None = None
    region: str | None = None

    def covers(self, org: str | None, region_code: str | None) -> bool:
        """True when an item of department `org` in region `region_code` lies inside the scope."""
        if self.org is not None and org != self.org:
            return False
        if self.region is not None and not region_covers(self.region, region_code):
            return False
        return True

    def narrowed(self, org: str | None = None, region: str | None = None) -> "ItemScope":
        """The scope restricted to the `org` and `region` a request asks for → a scope inside this one.

        Raises Forbidden (out_of_scope) when the request reaches outside: another department for an
        org-scoped actor, a region that is not inside theirs for a region-scoped one.
        """
        if org and self.org is not None and org != self.org:
            raise Forbidden("that department is not yours", code="out_of_scope", details={"org": org})
        if region and self.region is not None and not region_covers(self.region, region):
            raise Forbidden("that region is outside yours", code="out_of_scope",
                            details={"region": region, "your_region": self.region})
        return ItemScope(org=org or self.org, region=region or self.region)

    def filters(self) -> dict:
        """The store's filter arguments for this scope → {org, region_prefix}."""
        return {"org": self.org, "region_prefix": region_prefix(self.region) if self.region else None}


def scope_of(actor: Actor) -> ItemScope:
    """The one place that turns an actor into the items it may see (every list and read goes through it).

    Province admins see every item; editors and window staff their department's; reviewers and reform
    offices their region's, subregions included. Raises Forbidden: role_required for citizens and any
    other role, out_of_scope for an account missing the org or region its role needs (never "all").
    """
    if actor.role == "province_admin":
        return ItemScope()
    if actor.role in ROLES_NEEDING_ORG:
        if not actor.org:
            raise Forbidden("this account has no department", code="out_of_scope", details={"org": None})
        return ItemScope(org=actor.org)
    if actor.role in ROLES_NEEDING_REGION:
        if not actor.region:
            raise Forbidden("this account has no region", code="out_of_scope", details={"region": None})
        return ItemScope(region=actor.region)
    raise Forbidden("this needs a staff role", code="role_required",
                    details={"required": list(ROLES), "role": actor.role})


def require_item_scope(actor: Actor, org: str, region_code: str) -> None:
    """Raise Forbidden unless the item lies in the actor's scope: role_required for non-staff,
    out_of_scope for another department's or region's item."""
    if not scope_of(actor).covers(org, region_code):
        raise Forbidden("this item belongs to another department or region", code="out_of_scope",
                        details={"org": org, "region_code": region_code})
