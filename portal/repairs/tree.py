"""The starting repairs tree: area → room → item → problem (priority, trade) for each leaf."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.repairs.models import RepairNode

Leaf = tuple[str, str, str]

DEFAULT_TREE: dict[str, dict[str, dict[str, list[Leaf]]]] = {
    "Inside your home": {
        "Kitchen": {
            "Sink or taps": [
                ("Dripping tap", "routine", "plumbing"),
                ("Blocked sink", "urgent", "plumbing"),
                ("Leak under the sink", "urgent", "plumbing"),
            ],
            "Cupboards and worktops": [
                ("Cupboard door broken", "routine", "carpentry"),
                ("Worktop damaged", "routine", "carpentry"),
            ],
            "Extractor fan": [("Extractor fan not working", "routine", "electrical")],
        },
        "Bathroom and toilet": {
            "Toilet": [
                ("Toilet blocked (your only toilet)", "emergency", "plumbing"),
                ("Toilet not flushing", "urgent", "plumbing"),
                ("Leak from the toilet", "urgent", "plumbing"),
                ("Toilet seat broken", "routine", "plumbing"),
            ],
            "Bath or shower": [
                ("Shower not working", "urgent", "plumbing"),
                ("Bath or shower leaking", "urgent", "plumbing"),
                ("Sealant around the bath mouldy or loose", "routine", "general"),
            ],
            "Washbasin": [
                ("Blocked basin", "routine", "plumbing"),
                ("Basin cracked", "routine", "plumbing"),
            ],
        },
        "Heating and hot water": {
            "Boiler": [
                ("Boiler making a noise", "urgent", "heating"),
                ("Boiler pressure low", "urgent", "heating"),
                ("Boiler dripping (not near electrics)", "urgent", "heating"),
            ],
            "Radiators": [
                ("One radiator cold", "routine", "heating"),
                ("Radiator leaking", "urgent", "heating"),
                ("Radiator valve broken", "routine", "heating"),
            ],
            "Hot water cylinder": [("Immersion heater not working", "urgent", "electrical")],
            "Heating controls": [("Thermostat or timer not working", "routine", "heating")],
        },
        "Electrics": {
            "Sockets and switches": [
                ("Socket not working", "urgent", "electrical"),
                ("Socket cover cracked", "urgent", "electrical"),
                ("Light switch broken", "routine", "electrical"),
            ],
            "Lights": [
                ("Ceiling light not working", "routine", "electrical"),
                ("Light fitting loose", "routine", "electrical"),
            ],
            "Smoke and heat alarms": [
                ("Alarm beeping every few minutes (low battery)", "urgent", "electrical"),
                ("Alarm missing or removed", "urgent", "electrical"),
            ],
        },
        "Doors and windows": {
            "Front or back door": [
                ("Door lock stiff", "urgent", "carpentry"),
                ("Door not closing properly", "urgent", "carpentry"),
                ("Draught around the door", "routine", "carpentry"),
            ],
            "Internal doors": [
                ("Internal door sticking", "routine", "carpentry"),
                ("Door handle broken", "routine", "carpentry"),
            ],
            "Windows": [
                ("Window will not close", "urgent", "glazing"),
                ("Cracked glass", "urgent", "glazing"),
                ("Window handle broken", "routine", "glazing"),
                ("Condensation between the panes", "routine", "glazing"),
            ],
        },
    },
    "Communal areas": {
        "Stairs and corridors": {
            "Lighting": [("Communal light not working", "urgent", "electrical")],
            "Floors, stairs and handrails": [
                ("Damaged stair or handrail", "urgent", "general"),
                ("Floor covering loose", "routine", "general"),
            ],
        },
        "Entrance": {
            "Door entry system": [
                ("Entry phone not working", "urgent", "electrical"),
                ("Main door not locking", "urgent", "carpentry"),
            ],
        },
        "Bin store": {
            "Bins and chutes": [
                ("Bin store door broken", "routine", "carpentry"),
                ("Refuse chute blocked", "urgent", "general"),
            ],
        },
        "Lifts": {"Lift": [("Lift not working", "urgent", "general")]},
    },
}

COMMUNAL_ROOT = "Communal areas"


def seed_default_tree() -> int:
    """Create the default tree when the table is empty; returns the number of leaves created."""
    if db.session.scalar(select(func.count(RepairNode.id))):
        return 0
    leaves = 0
    for a, (area, rooms) in enumerate(DEFAULT_TREE.items()):
        area_node = RepairNode(label=area, position=a)
        db.session.add(area_node)
        for r, (room, items) in enumerate(rooms.items()):
            room_node = RepairNode(label=room, parent=area_node, position=r)
            db.session.add(room_node)
            for i, (item, problems) in enumerate(items.items()):
                item_node = RepairNode(label=item, parent=room_node, position=i)
                db.session.add(item_node)
                for p, (label, priority, trade) in enumerate(problems):
                    db.session.add(
                        RepairNode(
                            label=label,
                            parent=item_node,
                            position=p,
                            priority=priority,
                            trade=trade,
                        )
                    )
                    leaves += 1
    db.session.flush()
    return leaves
