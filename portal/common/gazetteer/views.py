"""The address lookup component's endpoint and the "Your area" page that uses it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, request

from portal.common import page_cache
from portal.common.gazetteer.services import PostcodeError, addresses_for_postcode, get_address
from portal.common.models import Address
from portal.rendering import is_htmx_request, render_page

bp = Blueprint("gazetteer", __name__)

# Postcode lookups for anonymous visitors: addresses change only with a gazetteer import.
page_cache.watch("gazetteer", lambda: (Address,))


def _cached(render: Callable[[], str]) -> str:
    ttl = current_app.config["PORTAL"].services_page_cache_seconds
    return page_cache.cached_page("gazetteer", ttl, render)


def lookup_state(postcode_text: str) -> dict[str, object]:
    """Template context for the address lookup component after a postcode search."""
    if not postcode_text.strip():
        return {"postcode": "", "addresses": None, "error": None}
    try:
        postcode, addresses = addresses_for_postcode(postcode_text)
    except PostcodeError as exc:
        return {"postcode": postcode_text, "addresses": None, "error": str(exc)}
    return {"postcode": postcode, "addresses": addresses, "error": None}


@dataclass
class AddressStep:
    """A page's GET postcode → address step (works without JavaScript): the address chosen, or
    what to show again (the lookup state and an error at the postcode or at the list)."""

    address: Address | None
    state: dict[str, object]
    select_error: str | None = None

    @property
    def errors(self) -> list[tuple[str, str]]:
        if self.state["error"]:
            return [("#uprn-postcode", str(self.state["error"]))]
        return [("#uprn", self.select_error)] if self.select_error else []


def address_step(args: Mapping[str, str]) -> AddressStep:
    """Read `uprn_postcode`, `uprn_find` (the Find button) and `uprn` (the chosen address)."""
    postcode = args.get("uprn_postcode", "")
    step = AddressStep(None, lookup_state(postcode))
    if "uprn_find" in args:
        if not postcode.strip():
            step.state["error"] = "Enter a postcode"
    elif "uprn" in args:
        step.address = get_address(args.get("uprn", ""))
        if step.address is None:
            if step.state["addresses"]:
                step.select_error = "Select an address"
            elif not step.state["error"]:
                step.state["error"] = "Enter a postcode"
    return step


def _field_name() -> str:
    field = request.args.get("field", "uprn")
    return field if field.replace("_", "").isalnum() else "uprn"


@bp.get("/addresses/lookup")
def lookup():
    """Addresses for a postcode: the select fragment for htmx, a whole page otherwise."""
    return _cached(_lookup)


def _lookup() -> str:
    field = _field_name()
    postcode = request.args.get(f"{field}_postcode", request.args.get("postcode", ""))
    state = lookup_state(postcode)
    if not postcode.strip() and "postcode" in request.args:
        state["error"] = "Enter a postcode"
    if is_htmx_request():
        return render_template(
            "components/address_lookup_fragment.html",
            field=field,
            lookup_endpoint="gazetteer.lookup",
            **state,
        )
    return render_page("gazetteer/lookup.html", field=field, **state)


@bp.get("/your-area")
def your_area():
    """Find the ward and details of an address, using the address lookup component."""
    return _cached(_your_area)


def _your_area() -> str:
    postcode = request.args.get("uprn_postcode", "")
    state = lookup_state(postcode)
    address = None
    select_error = None
    if "uprn_find" in request.args:
        if not postcode.strip():
            state["error"] = "Enter a postcode"
    elif "uprn" in request.args:
        address = get_address(request.args.get("uprn", ""))
        if address is None:
            if state["addresses"]:
                select_error = "Select an address"
            elif not state["error"]:
                state["error"] = "Enter a postcode"
    errors = []
    if state["error"]:
        errors.append(("#uprn-postcode", state["error"]))
    elif select_error:
        errors.append(("#uprn", select_error))
    return render_page(
        "gazetteer/your_area.html",
        field="uprn",
        address=address,
        select_error=select_error,
        page_errors=errors,
        **state,
    )
