"""An announcement as an Apprise notification: a title and a Markdown body.

Pure. Apprise turns the Markdown into what each service shows (HTML for e-mail, plain text
for SMS); text from the web is escaped so that it can never become a link or a heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.domain import Announcement, AnnouncementKind, CodeStatus, CodeView, Game
from bot.core.rewards import rewards_text
from bot.core.text import clip, one_line

# Many services cut long messages (ntfy 4 KB, SMS far less): the body stays under this and
# says how many codes it left out.
MAX_BODY_CHARS = 3500
MAX_TITLE_CHARS = 200
MAX_REWARDS_CHARS = 200
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


@dataclass(frozen=True)
class Notification:
    title: str
    body: str


def escape(text: str) -> str:
    """Web text made inert in Markdown."""
    return _MARKDOWN.sub(r"\\\1", one_line(text))


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def code_lines(code: CodeView, game: Game) -> str:
    line = f"**{escape(code.code)}**"
    if code.status is CodeStatus.EXPIRED:
        line += " (expired)"
    if rewards := rewards_text(code):
        line += f" — {escape(clip(rewards, MAX_REWARDS_CHARS))}"
    if code.expires_at is not None and code.status is not CodeStatus.EXPIRED:
        line += f" · expires {_when(code.expires_at)}"
    link = game.redeem_link(code.code) if code.status is not CodeStatus.EXPIRED else None
    return f"{line}\nRedeem: {link}" if link else line


def title_for(announcement: Announcement, game: Game) -> str:
    count, name = len(announcement.codes), one_line(game.name)
    if announcement.kind is AnnouncementKind.REMINDER:
        text = (
            f"{name}: a code expires within a day"
            if count == 1
            else f"{name}: {count} codes expire within a day"
        )
    else:
        text = f"New {name} code" if count == 1 else f"{count} new {name} codes"
    return clip(text, MAX_TITLE_CHARS)


def notification(announcement: Announcement, game: Game) -> Notification:
    blocks: list[str] = []
    used = 0
    for index, code in enumerate(announcement.codes):
        block = code_lines(code, game)
        if used + len(block) + 2 > MAX_BODY_CHARS - 40:
            blocks.append(f"…and {len(announcement.codes) - index} more.")
            break
        blocks.append(block)
        used += len(block) + 2
    if game.redeem_url is None and game.note:
        blocks.append(escape(clip(game.note, 300)))
    return Notification(title_for(announcement, game), "\n\n".join(blocks))
