"""Reward icons for pages served locally: their CDN addresses point at the local server instead.

The demo and the tests serve recorded and constructed pages whose reward icons live on a CDN
(Fandom's) or on an invented host (example.invalid); neither can be reached offline. Before
such a page is served, each icon address in it is replaced by one on the local server, where
a picture drawn for that reward (its initials on a colour of its own) answers.
"""

from __future__ import annotations

import hashlib
import re
from io import BytesIO
from urllib.parse import unquote, urlsplit

from PIL import Image, ImageDraw, ImageFont

from tests.fakes.source_site import FixtureSite, Page

# The hosts of reward icons in the pages codecast's tests and demo serve.
ICON_URL = re.compile(
    rb"https?://(?:static\.wikia\.nocookie\.net|(?:[a-z0-9-]+\.)?example\.invalid)"
    rb"/[^\"'\s<>\\]+"
)
SIZE = 64
# A file name such as "Item_Adventurer%27s_Experience.png" or "mystic-ore.png".
_FILE_NAME = re.compile(r"(?:Item_)?([^/]+?)\.(?:png|jpe?g|gif|webp)", re.IGNORECASE)


def reward_name(url: str) -> str:
    """The reward an icon address is named after: "Adventurer's Experience", "mystic ore"."""
    path = unquote(urlsplit(url).path)
    names = _FILE_NAME.findall(path)
    return re.sub(r"[_-]+", " ", names[0]).strip() if names else "reward"


def draw_icon(name: str) -> bytes:
    """A square PNG with the reward's initials on a colour derived from its name."""
    digest = hashlib.sha256(name.lower().encode()).digest()
    colour = (64 + digest[0] % 160, 64 + digest[1] % 160, 64 + digest[2] % 160, 255)
    picture = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(picture)
    pen.rounded_rectangle((2, 2, SIZE - 3, SIZE - 3), radius=14, fill=colour)
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "?"
    font = ImageFont.load_default(size=28)
    pen.text((SIZE / 2, SIZE / 2), initials, fill=(255, 255, 255, 255), font=font, anchor="mm")
    out = BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def serve_icons_locally(site: FixtureSite, body: bytes) -> bytes:
    """`body` with its reward icon addresses on `site`, which then serves a picture for each."""

    def local(match: re.Match[bytes]) -> bytes:
        url = match.group(0).decode()
        path = f"icons/{hashlib.sha256(url.encode()).hexdigest()[:16]}.png"
        if path not in site.pages:
            site.pages[path] = Page(draw_icon(reward_name(url)), "image/png")
        return site.url(path).encode()

    return ICON_URL.sub(local, body)
