"""Sending companies (lähettävät yritykset): one per Severa business unit with its own Maventa account.

The store keeps what the integration screens keep: the Maventa company UUID and user API key
(the key as a `Secret`), the registration and authentication state, the settings and the
activation toggle. The rules about *when* a change is allowed (MV-3: only a verified company may
change settings or be activated; MV-14: the transfer status must not have isSent) belong to the
caller; the store refuses only what can never be right: a sending company without a business ID
(MV-5) and unknown companies.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from bridge.config import Secret

from .db import Database, StoreError, from_text, to_text
from .models import AuthState, CompanySettings, CompanyState, RegistrationState, SendingCompany, StatusRef


class UnknownCompanyError(StoreError):
    """No sending company with that id or business unit."""


class MissingBusinessIdError(StoreError):
    """MV-5: a business unit without a business ID (Y-tunnus) cannot be a sending company."""


_KEEP: Any = object()  # "leave this column as it is"


def normalize_guid(guid: str) -> str:
    """Severa GUIDs compare case-insensitively; the store keeps them lower-case without braces."""
    return guid.strip().strip("{}").lower()


class CompanyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert(
        self,
        business_unit_guid: str,
        *,
        name: str,
        business_id: str | None,
        severa_organization: str = "",
    ) -> SendingCompany:
        """Create the sending company of a business unit, or update its name and business ID."""
        guid = normalize_guid(business_unit_guid)
        if not guid:
            raise StoreError("a sending company needs the GUID of its Severa business unit")
        bid = (business_id or "").strip()
        if not bid:
            raise MissingBusinessIdError(
                f"business unit {name!r} has no business ID (Y-tunnus); only a unit with its own business "
                f"ID can be set up as a sending company in Maventa. Add the business ID in Severa first."
            )
        now = to_text(self._db.now())
        with self._db.write() as conn:
            conn.execute(
                """INSERT INTO companies (severa_organization, business_unit_guid, name, business_id,
                                          created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (severa_organization, business_unit_guid)
                   DO UPDATE SET name = excluded.name, business_id = excluded.business_id,
                                 updated_at = excluded.updated_at""",
                (severa_organization, guid, name, bid, now, now),
            )
            row = conn.execute(
                "SELECT * FROM companies WHERE severa_organization = ? AND business_unit_guid = ?",
                (severa_organization, guid),
            ).fetchone()
        return _company(row)

    def get(self, company_id: int) -> SendingCompany:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM companies WHERE id = ?", (company_id,)).fetchone()
        if row is None:
            raise UnknownCompanyError(f"no sending company with id {company_id}")
        return _company(row)

    def find(self, business_unit_guid: str, severa_organization: str = "") -> SendingCompany | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT * FROM companies WHERE severa_organization = ? AND business_unit_guid = ?",
                (severa_organization, normalize_guid(business_unit_guid)),
            ).fetchone()
        return None if row is None else _company(row)

    def find_by_maventa_uuid(self, company_uuid: str) -> SendingCompany | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT * FROM companies WHERE lower(maventa_company_uuid) = ?",
                (company_uuid.strip().lower(),),
            ).fetchone()
        return None if row is None else _company(row)

    def all(
        self, *, active: bool | None = None, severa_organization: str | None = None
    ) -> list[SendingCompany]:
        sql = "SELECT * FROM companies WHERE 1 = 1"
        args: list[object] = []
        if active is not None:
            sql += " AND active = ?"
            args.append(int(active))
        if severa_organization is not None:
            sql += " AND severa_organization = ?"
            args.append(severa_organization)
        with self._db.read() as conn:
            rows = conn.execute(sql + " ORDER BY id", args).fetchall()
        return [_company(r) for r in rows]

    def set_credentials(
        self,
        company_id: int,
        *,
        company_uuid: str | None,
        api_key: Secret | str | None,
        registration_state: RegistrationState,
    ) -> SendingCompany:
        """Store the Maventa company UUID and user API key (MV-1, MV-2 with `api_key=None`, MV-4)."""
        key = Secret.of(api_key)
        return self._update(
            company_id,
            maventa_company_uuid=(company_uuid or "").strip() or None,
            maventa_api_key=key.reveal() if key else None,
            registration_state=registration_state.value,
        )

    def set_authorization(
        self,
        company_id: int,
        *,
        auth_state: AuthState,
        company_state: CompanyState,
        auth_email: str | None = _KEEP,
    ) -> SendingCompany:
        """Record the authentication state as Maventa reported it (MV-3 "Päivitä")."""
        return self._update(
            company_id, auth_state=auth_state.value, company_state=company_state.value, auth_email=auth_email
        )

    def save_settings(self, company_id: int, settings: CompanySettings) -> SendingCompany:
        def ref(r: StatusRef | None) -> tuple[str | None, str | None]:
            return (normalize_guid(r.guid), r.name) if r else (None, None)

        t_guid, t_name = ref(settings.status_to_transfer)
        a_guid, a_name = ref(settings.status_after_transfer)
        e_guid, e_name = ref(settings.status_after_error)
        return self._update(
            company_id,
            send_original_pdf=int(settings.send_original_pdf),
            send_by_email=int(settings.send_by_email),
            notification_email=(settings.notification_email or "").strip() or None,
            status_to_transfer_guid=t_guid,
            status_to_transfer_name=t_name,
            status_after_transfer_guid=a_guid,
            status_after_transfer_name=a_name,
            status_after_error_guid=e_guid,
            status_after_error_name=e_name,
        )

    def set_active(self, company_id: int, active: bool) -> SendingCompany:
        """The activation toggle (MV-13); nothing is sent for an inactive company."""
        return self._update(company_id, active=int(active))

    def _update(self, company_id: int, **columns: Any) -> SendingCompany:
        cols = {k: v for k, v in columns.items() if v is not _KEEP}
        cols["updated_at"] = to_text(self._db.now())
        assignments = ", ".join(f"{k} = ?" for k in cols)
        with self._db.write() as conn:
            cur = conn.execute(
                f"UPDATE companies SET {assignments} WHERE id = ?", [*cols.values(), company_id]
            )
            if cur.rowcount == 0:
                raise UnknownCompanyError(f"no sending company with id {company_id}")
            row = conn.execute("SELECT * FROM companies WHERE id = ?", (company_id,)).fetchone()
        return _company(row)


def _company(row: sqlite3.Row) -> SendingCompany:
    def ref(prefix: str) -> StatusRef | None:
        guid = row[f"{prefix}_guid"]
        return StatusRef(guid, row[f"{prefix}_name"] or "") if guid else None

    return SendingCompany(
        id=row["id"],
        severa_organization=row["severa_organization"],
        business_unit_guid=row["business_unit_guid"],
        name=row["name"],
        business_id=row["business_id"],
        maventa_company_uuid=row["maventa_company_uuid"],
        maventa_api_key=Secret.of(row["maventa_api_key"]),
        registration_state=RegistrationState(row["registration_state"]),
        auth_state=AuthState(row["auth_state"]),
        company_state=CompanyState(row["company_state"]),
        auth_email=row["auth_email"],
        settings=CompanySettings(
            send_original_pdf=bool(row["send_original_pdf"]),
            send_by_email=bool(row["send_by_email"]),
            notification_email=row["notification_email"],
            status_to_transfer=ref("status_to_transfer"),
            status_after_transfer=ref("status_after_transfer"),
            status_after_error=ref("status_after_error"),
        ),
        active=bool(row["active"]),
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
    )
