"""Plays that start from a HubSpot email: the parameters the email module puts on its link
to the media page, read back by the media page and the player page.

An email cannot run a player, so the email module links to the media page with the
recipient's contact record id (HubL's ``{{ contact.hs_object_id }}``) and a marker saying
the visit came from an email. The media page hands both to its player, whose signed token
then carries them, so every report of that play is sent to HubSpot with
``externalPlayContext: "EMAIL"`` and that ``contactId``. Anyone can edit a link: the id
is only as trustworthy as the link it came in (see the README's "Plays from email").
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from oembed_server.domain.whole_numbers import parse_whole_number

# The query parameters, as the email module writes them and the README documents them.
FROM_PARAM = "play_from"
FROM_EMAIL = "email"
CONTACT_PARAM = "contact_id"
# HubSpot's contactId is an int64.
CONTACT_ID_MAX = 2**63 - 1


@dataclasses.dataclass(frozen=True)
class EmailPlay:
    """A visit from an email link; ``contact_id`` None when the link named no (valid) contact,
    as in an email sent to a list without one or a preview."""
    contact_id: int | None = None

    def query(self) -> dict[str, str]:
        """The same parameters again, for the player page's URL."""
        params = {FROM_PARAM: FROM_EMAIL}
        if self.contact_id is not None:
            params[CONTACT_PARAM] = str(self.contact_id)
        return params


def is_contact_id(value: object) -> bool:
    """A HubSpot contact record id: a positive whole number within int64."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= CONTACT_ID_MAX


def email_play(args: Mapping[str, str]) -> EmailPlay | None:
    """The email visit the page's query string describes, or None for any other visit.

    A contact id is honoured only with the email marker, and a mangled one is dropped
    rather than refused: these pages are for people, who did not write the link.
    """
    if args.get(FROM_PARAM) != FROM_EMAIL:
        return None
    raw = args.get(CONTACT_PARAM)
    number = parse_whole_number(raw, CONTACT_ID_MAX) if isinstance(raw, str) else None
    return EmailPlay(number if is_contact_id(number) else None)
