"""Short, human-friendly reference numbers such as RP-7KQ4-2M9X, unique per kind.

The alphabet leaves out look-alike characters (0/O, 1/I/L, 5/S, 2/Z, 8/B, U/V) so a reference read
over the phone or copied from paper comes back right. Eight characters from 23 give 7.8e10 codes;
uniqueness is guaranteed by a unique index on the table that stores the reference, and
`new_reference` retries on the rare collision that a caller reports.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

ALPHABET = "34679ACDEFGHJKMNPQRTWXY"
CODE_LENGTH = 8
GROUP = 4


def generate_reference(prefix: str) -> str:
    """A new random reference with the given kind prefix, e.g. generate_reference("RP")."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    groups = [code[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP)]
    return "-".join([prefix, *groups])


def new_reference(prefix: str, exists: Callable[[str], bool], attempts: int = 10) -> str:
    """A reference that `exists` says is not yet taken."""
    for _ in range(attempts):
        reference = generate_reference(prefix)
        if not exists(reference):
            return reference
    raise RuntimeError(f"could not find a free {prefix} reference in {attempts} attempts")


def normalise_reference(text: str) -> str:
    """Accept what people type: lower case, spaces, missing or extra hyphens."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(compact) <= CODE_LENGTH:
        return compact
    prefix, code = compact[:-CODE_LENGTH], compact[-CODE_LENGTH:]
    return "-".join([prefix, code[:GROUP], code[GROUP:]])


def is_well_formed(reference: str, prefix: str) -> bool:
    parts = reference.split("-")
    return (
        len(parts) == 3
        and parts[0] == prefix
        and all(len(p) == GROUP and all(ch in ALPHABET for ch in p) for p in parts[1:])
    )
