"""/customers: the company's billing system creates and updates customers, finds them by
e-mail or its own ID, manages their authorized addresses, and syncs their services by
external ID. Reading needs any staff token; changing needs an administrator's admin token."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.params.functions import Header as HeaderParam
from ninja.params.functions import Query as QueryParam

from atiende.accounts import customers
from atiende.accounts.models import Account, AuthorizedAddress, Service, User
from atiende.accounts.selectors import authorized_address_list
from atiende.accounts.services import authorized_address_add, authorized_address_remove
from atiende.api.auth import ADMIN, staff_of
from atiende.api.cursors import cursor_decode, cursor_encode
from atiende.api.idempotency import idempotent_create, render
from atiende.api.schemas import (
    AddressCreate,
    AddressOut,
    CustomerCreate,
    CustomerOut,
    CustomerPage,
    CustomerUpdate,
    ServiceOut,
    ServiceUpsert,
)
from atiende.core.errors import NotFound
from atiende.core.text import normalize_email

router = Router(tags=["customers"])

IDEMPOTENCY_KEY = HeaderParam(
    None,
    alias="Idempotency-Key",
    description="Send the same key when retrying: the customer is created once.",
)
_USERS_BY_AGE = Prefetch("users", queryset=User.objects.order_by("date_joined", "id"))


def _customer(account: Account) -> dict[str, Any]:
    """Needs `users` prefetched with _USERS_BY_AGE (the first is the holder)."""
    users = list(account.users.all())
    holder = users[0] if users else None
    return {
        "id": account.public_id,
        "name": account.name,
        "external_id": account.external_id or None,
        "email": holder.email if holder else None,
        "full_name": holder.full_name if holder else "",
        "language": holder.language if holder else "es",
        "is_active": account.is_active,
        "created_at": account.created_at,
    }


def _fetch(account: Account) -> dict[str, Any]:
    return _customer(Account.objects.prefetch_related(_USERS_BY_AGE).get(pk=account.pk))


def _service(service: Service) -> dict[str, Any]:
    return {
        "external_id": service.external_id or None,
        "kind": service.kind,
        "name": service.name,
        "plan": service.plan,
        "status": service.status,
        "created_at": service.created_at,
    }


def _address(address: AuthorizedAddress, *, main: bool) -> dict[str, Any]:
    return {
        "email": address.email,
        "confirmed": address.is_confirmed,
        "main": main,
        "created_at": address.created_at,
    }


@router.get(
    "/customers",
    response=CustomerPage,
    summary="Find or list customers",
    description="With `email`: the customers that address leads to (a user's login, or a "
    "confirmed authorized address). With `external_id`: the customer your system knows by it. "
    "Neither: every customer, oldest first, in pages.",
)
def customer_list(
    request: HttpRequest,
    email: str | None = QueryParam(None, max_length=254),
    external_id: str | None = QueryParam(None, max_length=100),
    cursor: str | None = None,
    limit: int = QueryParam(50, ge=1, le=100),
) -> dict[str, Any]:
    if email is not None:
        # Already ordered by name: only their users are fetched, in one query for them all.
        found = customers.customer_find(email=email)
        prefetch_related_objects(found, _USERS_BY_AGE)
        return {"items": [_customer(a) for a in found], "next_cursor": None}
    if external_id is not None:
        account = customers.customer_by_external_id(external_id=external_id)
        items = [_fetch(account)] if account is not None else []
        return {"items": items, "next_cursor": None}
    rows = Account.objects.prefetch_related(_USERS_BY_AGE).order_by("id")
    if cursor:
        (last_id,) = cursor_decode(cursor, shape=(int,))
        rows = rows.filter(pk__gt=last_id)
    page = list(rows[: limit + 1])
    next_cursor = cursor_encode([page[limit - 1].pk]) if len(page) > limit else None
    return {"items": [_customer(a) for a in page[:limit]], "next_cursor": next_cursor}


@router.post(
    "/customers",
    auth=ADMIN,
    response={201: CustomerOut},
    summary="Create a customer",
    description="An account and its holder, who logs in with `email` (confirmed: the company "
    "vouches for it). With `invite` he is mailed a link to choose his password.",
)
def customer_create(
    request: HttpRequest, payload: CustomerCreate, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> HttpResponse:
    admin = staff_of(request)

    def create() -> dict[str, Any]:
        account = customers.customer_create(
            name=payload.name,
            email=payload.email,
            full_name=payload.full_name,
            language=payload.language,
            timezone=payload.timezone,
            external_id=payload.external_id,
            invite=payload.invite,
            created_by=admin,
        )
        return _fetch(account)

    return idempotent_create(request, key=idempotency_key, schema=CustomerOut, create=create)


@router.get("/customers/{customer_id}", response=CustomerOut, summary="A customer")
def customer_get(request: HttpRequest, customer_id: str) -> dict[str, Any]:
    return _fetch(customers.access_customer(public_id=customer_id))


@router.patch(
    "/customers/{customer_id}",
    auth=ADMIN,
    response=CustomerOut,
    summary="Update a customer",
    description="Only the fields sent change. `email`, `full_name` and `language` are the "
    'holder\'s; `external_id` "" removes it; `is_active` false stops his tickets and logins.',
)
def customer_update(
    request: HttpRequest, customer_id: str, payload: CustomerUpdate
) -> dict[str, Any]:
    account = customers.access_customer(public_id=customer_id)
    customers.customer_update(account=account, **payload.model_dump(exclude_unset=True))
    return _fetch(account)


@router.get(
    "/customers/{customer_id}/addresses",
    response=list[AddressOut],
    summary="A customer's authorized addresses",
    description="The addresses from which the customer may open and answer tickets by e-mail.",
)
def address_list(request: HttpRequest, customer_id: str) -> list[dict[str, Any]]:
    account = customers.access_customer(public_id=customer_id)
    return [
        _address(row.address, main=row.is_main) for row in authorized_address_list(account=account)
    ]


@router.post(
    "/customers/{customer_id}/addresses",
    auth=ADMIN,
    response={201: AddressOut},
    summary="Add an authorized address",
)
def address_add(request: HttpRequest, customer_id: str, payload: AddressCreate) -> HttpResponse:
    admin = staff_of(request)
    account = customers.access_customer(public_id=customer_id)
    address = authorized_address_add(
        account=account, email=payload.email, added_by=admin, confirmed=payload.confirmed
    )
    body = render(AddressOut, _address(address, main=False))
    return HttpResponse(body, status=201, content_type="application/json")


@router.delete(
    "/customers/{customer_id}/addresses/{email}",
    auth=ADMIN,
    response={204: None},
    summary="Remove an authorized address",
    description="The holder's own address cannot be removed (422).",
)
def address_remove(request: HttpRequest, customer_id: str, email: str) -> Status[None]:
    account = customers.access_customer(public_id=customer_id)
    # No stored address holds a NUL, and PostgreSQL refuses one in a query (a 500).
    address = (
        AuthorizedAddress.objects.filter(account=account, email__iexact=normalize_email(email))
        .only("pk")
        .first()
        if "\x00" not in email
        else None
    )
    if address is None:
        raise NotFound(_("Address not found."))
    authorized_address_remove(account=account, address_id=address.pk)
    return Status(204, None)


@router.get(
    "/customers/{customer_id}/services",
    response=list[ServiceOut],
    summary="A customer's services",
)
def service_list(request: HttpRequest, customer_id: str) -> list[dict[str, Any]]:
    account = customers.access_customer(public_id=customer_id)
    return [
        _service(s) for s in Service.objects.filter(account=account).order_by("kind", "name", "id")
    ]


@router.put(
    "/customers/{customer_id}/services/{external_id}",
    auth=ADMIN,
    response={200: ServiceOut, 201: ServiceOut},
    summary="Create or update a service by its external ID",
    description="What a billing system repeats at every sync: 201 when the service is new, "
    "200 when it existed (and now holds these values); never a duplicate. Cancel a service "
    "with status `cancelled`.",
)
def service_put(
    request: HttpRequest, customer_id: str, external_id: str, payload: ServiceUpsert
) -> Status[dict[str, Any]]:
    account = customers.access_customer(public_id=customer_id)
    service, created = customers.service_upsert(
        account=account,
        external_id=external_id,
        kind=payload.kind,
        name=payload.name,
        plan=payload.plan,
        status=payload.status,
    )
    return Status(201 if created else 200, _service(service))
