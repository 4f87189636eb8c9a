"""Topics and life events the A–Z is browsed by (slugs are stable: other pages link to them)."""

from __future__ import annotations

TOPICS: dict[str, str] = {
    "bins-and-recycling": "Bins, recycling and waste",
    "council-tax-and-benefits": "Council tax and benefits",
    "housing": "Housing",
    "planning-and-building": "Planning and building control",
    "roads-parking-and-transport": "Roads, parking and transport",
    "libraries-leisure-and-culture": "Libraries, leisure and culture",
    "births-deaths-and-marriages": "Births, deaths, marriages and citizenship",
    "business-and-licensing": "Business and licensing",
    "schools-and-education": "Schools and education",
    "care-and-health": "Care, health and support",
    "environment-and-community-safety": "Environment and community safety",
    "council-and-democracy": "The council and democracy",
}

LIFE_EVENTS: dict[str, str] = {
    "moving-home": "Moving home",
    "having-a-baby": "Having a baby",
    "bereavement": "When someone dies",
    "starting-a-business": "Starting a business",
    "getting-older": "Getting older",
    "looking-for-work": "Looking for work",
}
