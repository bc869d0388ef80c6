"""Staff account management: province admins create, scope, disable and reset accounts; everyone changes their own password."""
from __future__ import annotations

import re
import secrets

from items import codes, store
from items.accounts import AccountService, account_errors, password_errors
from items.errors import Conflict, NotFound, invalid_all
from items.scope import ROLES, ROLES_NEEDING_ORG, ROLES_NEEDING_REGION, Actor, region_prefix, require_role

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
CREATE_FIELDS = ("username", "password", "role", "org", "region")
UPDATE_FIELDS = ("role", "org", "region", "disabled")


def user_view(user) -> dict:
    return {"username": user.username, "role": user.role, "org": user.org, "region": user.region,
            "disabled": not user.active, "created_at": user.created_at.isoformat() + "Z"}


def _unknown_fields(body: dict, fields: tuple[str, ...]) -> list[dict]:
    return [{"path": "/" + k, "rule": "unknown_field", "message": f"use {', '.join(fields)}"}
            for k in body if k not in fields]


class StaffService:
    """Staff accounts over the directory. Any change of role, scope, password or disabled ends the
    account's sessions at once (AccountService.end_sessions), in every process."""

    def __init__(self, accounts: AccountService):
        self.accounts = accounts

    def list(self, role=None, org=None, region=None, disabled=None, q=None, page=1, size=50) -> dict:
        """One page of accounts `{users, total, page, size}`; `region` matches accounts in it and below."""
        records, total = store.find_users(role, org, region_prefix(region) if region else None, disabled, q,
                                          size, (page - 1) * size)
        return {"users": [user_view(u) for u in records], "total": total, "page": page, "size": size}

    def get(self, username: str) -> dict:
        """One account. Raises NotFound(user_not_found)."""
        return user_view(self._user(username))

    def create(self, body: dict, actor: Actor, remote_ip: str = "") -> dict:
        """Create an account → its view, plus `password` when none was given (shown this once).

        Raises Invalid naming field and rule, Conflict(user_exists).
        """
        require_role(actor, "province_admin")
        errors = _unknown_fields(body, CREATE_FIELDS)
        username = body.get("username")
        if not isinstance(username, str) or not _USERNAME.fullmatch(username):
            errors.append({"path": "/username", "rule": "username_format",
                           "message": "1 to 64 letters, digits or . _ @ -, starting with a letter or digit"})
        generated = body.get("password") is None
        password = secrets.token_urlsafe(12) if generated else body["password"]
        errors += password_errors(password)
        role, org, region = self._scope(body.get("role"), body.get("org"), body.get("region"), errors)
        if errors:
            raise invalid_all("the account is not valid", errors)
        password_hash = self.accounts.hash_password(password)  # slow on purpose: outside the transaction
        with store.transaction():
            if store.get_user(username) is not None:
                raise Conflict(f"user {username} exists", code="user_exists", details={"username": username})
            user = store.create_user(username, password_hash, role, org, region)
            store.audit(actor.username, "user.create", username, remote_ip,
                        {"role": role, "org": org, "region": region, "password_generated": generated})
        out = user_view(user)
        if generated:
            out["password"] = password
        return out

    def update(self, username: str, body: dict, actor: Actor, remote_ip: str = "") -> dict:
        """Change role, scope (org, region) or `disabled` → the account; ends its sessions when anything
        changed. Raises NotFound, Invalid, Conflict(last_province_admin)."""
        require_role(actor, "province_admin")
        errors = _unknown_fields(body, UPDATE_FIELDS)
        if "disabled" in body and not isinstance(body["disabled"], bool):
            errors.append({"path": "/disabled", "rule": "type", "message": "disabled is true or false"})
        with store.transaction():
            user = self._user(username)
            before = user_view(user)
            role = body.get("role", user.role)
            # a new role starts from the scope it is given: an editor made reviewer keeps no org
            org = body.get("org", user.org if role == user.role else None)
            region = body.get("region", user.region if role == user.role else None)
            role, org, region = self._scope(role, org, region, errors)
            if errors:
                raise invalid_all("the account is not valid", errors)
            disabled = body.get("disabled", before["disabled"])
            after = {**before, "role": role, "org": org, "region": region, "disabled": disabled}
            changed = {k: [before[k], after[k]] for k in UPDATE_FIELDS if before[k] != after[k]}
            if not changed:
                return before
            self._keep_an_admin(user, role, disabled)
            self.accounts.end_sessions(user.username)  # Redis down → fails before anything is written
            store.update_user(user, role=role, org=org, region=region, active=not disabled)
            action = ("user.disable" if disabled else "user.enable") if set(changed) == {"disabled"} else "user.update"
            store.audit(actor.username, action, username, remote_ip, {"changed": changed})
        self.accounts.end_sessions(user.username)  # after the commit too: see AccountService.end_sessions
        return self.get(username)

    def reset_password(self, username: str, body: dict, actor: Actor, remote_ip: str = "") -> dict:
        """Set `password`, or a generated one returned once → {username, password?}; ends the account's
        sessions. Raises NotFound, Invalid."""
        require_role(actor, "province_admin")
        errors = _unknown_fields(body, ("password",))
        generated = body.get("password") is None
        password = secrets.token_urlsafe(12) if generated else body["password"]
        errors += password_errors(password)
        if errors:
            raise invalid_all("the account is not valid", errors)
        password_hash = self.accounts.hash_password(password)
        with store.transaction():
            user = self._user(username)
            self.accounts.end_sessions(user.username)
            store.update_user(user, password_hash=password_hash)
            store.audit(actor.username, "user.password_reset", username, remote_ip, {"generated": generated})
        self.accounts.end_sessions(user.username)
        return {"username": username, "password": password} if generated else {"username": username}

    def change_own_password(self, actor: Actor, password: str, new_password: str, remote_ip: str = "") -> dict:
        """The signed-in user's own change: the current password must match. Ends every session of the
        account, this one included, and returns a fresh one → {token, expires_in}. Raises Invalid."""
        user = self._user(actor.username)
        errors = password_errors(new_password, "/new_password")
        if not isinstance(password, str) or not self.accounts.verify_password(user.password_hash, password):
            errors.insert(0, {"path": "/password", "rule": "current_password", "message": "the current password is wrong"})
        if errors:
            raise invalid_all("the account is not valid", errors)
        password_hash = self.accounts.hash_password(new_password)
        with store.transaction():
            self.accounts.end_sessions(user.username)
            store.update_user(user, password_hash=password_hash)
            store.audit(actor.username, "user.password_change", actor.username, remote_ip, {})
        self.accounts.end_sessions(user.username)
        fresh = Actor(username=user.username, role=user.role, org=user.org, region=user.region, user_id=user.id)
        return {"token": self.accounts.issue_token(fresh), "expires_in": self.accounts.token_ttl}

    @staticmethod
    def _user(username: str):
        user = store.get_user(username)
        if user is None:
            raise NotFound(f"no user {username}", code="user_not_found", details={"username": username})
        return user

    @staticmethod
    def _scope(role, org, region, errors: list[dict]) -> tuple:
        """The role and the scope it uses, checked against the directory; errors are appended.

        Editors and window staff belong to an org and take its region; reviewers and reform offices
        have a region; province admins have no scope.
        """
        for field, value in (("role", role), ("org", org), ("region", region)):
            if value is not None and not isinstance(value, str):
                errors.append({"path": "/" + field, "rule": "type", "message": f"{field} must be text"})
                return None, None, None
        if role not in ROLES:
            errors.append({"path": "/role", "rule": "enum", "message": f"one of {', '.join(ROLES)}"})
            return role, None, None
        org = org if role in ROLES_NEEDING_ORG else None
        region = region if role in ROLES_NEEDING_REGION else None
        found = account_errors(role, org, region)
        errors += found
        if found:
            return role, org, region
        if role in ROLES_NEEDING_ORG:
            record = store.get_org(org)
            if record is None:
                errors.append({"path": "/org", "rule": "org_exists", "message": f"department {org} is not in the directory"})
                return role, org, None
            return role, org, record.region_code
        if role in ROLES_NEEDING_REGION:
            region = region[:6] if codes.region_level(region) in ("province", "city", "county") else region
            if store.get_region(region) is None:
                errors.append({"path": "/region", "rule": "region_exists", "message": f"region {region} is not in the directory"})
        return role, org, region

    @staticmethod
    def _keep_an_admin(user, role: str, disabled: bool) -> None:
        # the province must keep someone who can manage accounts
        if user.role == "province_admin" and user.active and (role != "province_admin" or disabled) \
                and store.active_admins() <= 1:
            raise Conflict("this is the last active province admin", code="last_province_admin",
                           details={"username": user.username})
