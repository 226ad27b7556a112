"""The HTML of one code: its card on a game page, its line on the front page, its feed entry.

These are built in Python rather than in the templates because there are thousands of
them: the Jinja2 macro with its dozen escaped fields took about 16 µs a card, 80 ms for a
site of 5,000 codes against a budget of 100 ms for the whole render. Here every web text
arrives escaped once (ShownCode's *_html fields, escaped by markupsafe as the templates
escape), and a card is one f-string, under 2 µs. The pages around them stay in templates/.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup

from bot.core.domain import PLAYERS, CodeStatus
from bot.core.rewards import amount_text, unnamed_item
from bot.site.view import (
    ShownCode,
    ShownGame,
    ShownItem,
    html_text,
    plain_anchor,
    utc_text,
)

# The front page cuts long rewards texts; the game page shows them whole.
FRONT_REWARDS_LENGTH = 70

_EXPIRED = CodeStatus.EXPIRED
_UNKNOWN = CodeStatus.UNKNOWN


class _Parts:
    """The pieces many cards share, built once per page: item rows and source lists.

    `root` leads from the page to the site root ("" or "../"), for icon and page links.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._items: dict[tuple[ShownItem, ...], str] = {}
        self._sources: dict[tuple[str, ...], str] = {}

    def items(self, items: tuple[ShownItem, ...]) -> str:
        """The items with their icons (for codes whose ShownCode.pictured is true)."""
        known = self._items.get(items)
        if known is None:
            known = self._items[items] = " ".join(self._item(i) for i in items)
        return known

    def _item(self, item: ShownItem) -> str:
        amount = "" if item.amount is None else amount_text(item.amount)
        name = html_text(item.name)
        icon = item.icon
        unnamed = unnamed_item()
        if icon is None:
            label = f"{name or unnamed} {amount}" if amount else name or unnamed
            return f'<span class="it">{label}</span>'
        # A named item says its name in text, so its picture is decoration (alt=""); an
        # unnamed one (HoYoLAB) is only a picture and an amount, so the picture is named.
        alt = "" if name else unnamed
        label = f"{name} {amount}" if name and amount else name or amount
        root = self.root
        return (
            f'<span class="it"><picture><source srcset="{root}icons/{icon.webp}"'
            f' type="image/webp"><img src="{root}icons/{icon.png}" width="{icon.width}"'
            f' height="{icon.height}" alt="{alt}" loading="lazy" decoding="async"></picture>'
            f"{label}</span>"
        )

    def sources(self, sources: tuple[str, ...], labels: tuple[str, ...]) -> str:
        """Who lists a code, linked to their entries on sources.html: "listed by HoYoLAB,
        Fandom", and "reported by players" when players reported it."""
        known = self._sources.get(sources)
        if known is None:
            page = f"{self.root}sources.html"
            links = {
                s: f'<a href="{page}#{source_anchor(s)}">{html_text(label)}</a>'
                for s, label in zip(sources, labels, strict=True)
            }
            reported = links.pop(PLAYERS.id, None)
            said = [f"listed by {', '.join(links.values())}"] if links else []
            if reported is not None:
                said.append(reported)
            known = self._sources[sources] = " · ".join(said)
        return known


def source_anchor(source_id: str) -> str:
    """The id of a source's entry on sources.html."""
    return "src-" + plain_anchor(source_id)


def game_cards(codes: Iterable[ShownCode], root: str = "../") -> Markup:
    """The <li> cards of a game page's list, one per line."""
    parts = _Parts(root)
    # Safe: every web text in a card was escaped once, by html_text in view.py.
    return Markup("".join([card(c, parts) for c in codes]))  # noqa: S704


def card(c: ShownCode, parts: _Parts) -> str:
    # The copy button is added by site.js: without JavaScript there is no dead button,
    # and the code stays plain selectable text.
    expired = c.status is _EXPIRED
    redeem = (
        f' <a class="redeem" href="{c.link_html}" rel="noopener" target="_blank">'
        f'Redeem<span class="vh"> {c.code_html}</span></a>'
        if c.link_html is not None and not expired
        else ""
    )
    flag = '<p class="flag">Status not confirmed</p>\n' if c.status is _UNKNOWN else ""
    if c.pictured:
        rewards = f'<p class="rw items">{parts.items(c.items)}</p>\n'
    else:
        rewards = f'<p class="rw">{c.rewards_html or "Rewards not listed"}</p>\n'
    # Times: exact in the attribute and the title, to the minute in the text; the slices are
    # utc_exact and utc_text written out, as calls they cost a tenth of the cards' time.
    t = c.first_seen
    seen = f'<time datetime="{t}" title="{t[:10]} {t[11:19]} UTC">{t[:10]} {t[11:16]} UTC</time>'
    e = c.expires_at
    expiry = (
        f' · <time class="exp" datetime="{e}" title="{e[:10]} {e[11:19]} UTC">'
        f"{'expired' if expired else 'expires'} {e[:10]} {e[11:16]} UTC</time>"
        if e
        else ""
    )
    sources = f" · {parts.sources(c.sources, c.source_labels)}" if c.sources else ""
    family = f'<p class="fam">{_family_note(c.family)}</p>\n' if c.family else ""
    checked = _checked(c) if c.verification != "unverified" else ""
    return (
        f'<li class="card{" old" if expired else ""}" id="{c.anchor}">\n'
        f'<p class="line"><code class="code">{c.code_html}</code>{redeem}</p>\n'
        f"{checked}{flag}{rewards}"
        f'<p class="meta">First seen {seen}{expiry}{sources}</p>\n'
        f"{family}</li>\n"
    )


def _checked(c: ShownCode) -> str:
    """What HoYoverse's redeem endpoint says of the code, as a line of its card."""
    v = c.verification
    if v == "pending":
        return '<p class="ver checking">Checking with HoYoverse…</p>\n'
    t = c.verified_at
    when = (
        f' <time datetime="{t}" title="{t[:10]} {t[11:19]} UTC">{t[:10]} {t[11:16]} UTC</time>'
        if t
        else ""
    )
    if v == "valid":
        return f'<p class="ver ok">✓ HoYoverse accepts it · checked{when}</p>\n'
    if v == "expired":
        return f'<p class="ver gone">HoYoverse says it expired · checked{when}</p>\n'
    if v == "invalid":
        return f'<p class="ver no">HoYoverse rejects it · checked{when}</p>\n'
    return ""


def _family_note(family: str) -> str:
    return f"Family {family}: only one code of this family works per account."


def front_lines(codes: Iterable[ShownCode], root: str = "") -> Markup:
    """The front page's <li> lines for a game's current codes, one per line."""
    parts = _Parts(root)
    # Safe: every web text in a line was escaped once, by html_text in view.py.
    return Markup("\n".join([front_line(c, parts) for c in codes]))  # noqa: S704


def front_line(c: ShownCode, parts: _Parts) -> str:
    redeem = (
        f' <a href="{c.link_html}" rel="noopener" target="_blank">'
        f'Redeem<span class="vh"> {c.code_html}</span></a>'
        if c.link_html is not None
        else ""
    )
    flag = " <em>unconfirmed</em>" if c.status is _UNKNOWN else ""
    if c.verification == "valid":
        flag = ' <em class="ver ok">✓ checked</em>'
    elif c.verification == "pending":
        flag = ' <em class="ver checking">checking</em>'
    rewards = ""
    if c.pictured:
        rewards = f' <span class="rw items">{parts.items(c.items)}</span>'
    elif c.rewards_text:
        text = c.rewards_text
        short = (
            c.rewards_html
            if len(text) <= FRONT_REWARDS_LENGTH
            else html_text(text[: FRONT_REWARDS_LENGTH - 1] + "…")
        )
        rewards = f' <span class="rw">{short}</span>'
    # Dates only, to keep the front page small; the script turns them into "3 h ago" and
    # "expires in 2 days" in the reader's time zone.
    expiry = (
        f' · <time class="exp" datetime="{c.expires_at}">expires {c.expires_at[:10]}</time>'
        if c.expires_at
        else ""
    )
    return (
        f'<li><code class="code">{c.code_html}</code>{redeem}{flag}{rewards}'
        f' <span class="when">found <time datetime="{c.first_seen}">{c.first_seen[:10]}</time>'
        f"{expiry}</span></li>"
    )


def entry_html(game: ShownGame, c: ShownCode) -> str:
    """A feed entry's body: the code, its rewards, dates, sources and where to redeem it."""
    parts = [f"<p><code>{c.code_html}</code> for {game.name_html}.</p>"]
    if c.rewards_text:
        parts.append(f"<p>Rewards: {c.rewards_html}</p>")
    if c.status is _EXPIRED:
        parts.append("<p>Expired.</p>")
    elif c.verification == "valid" and c.verified_at:
        parts.append(f"<p>✓ HoYoverse accepts it (checked {utc_text(c.verified_at)}).</p>")
    elif c.verification == "pending":
        parts.append("<p>Being checked with HoYoverse.</p>")
    elif c.status is _UNKNOWN:
        parts.append("<p>Status not confirmed.</p>")
    if c.expires_at and c.status is not _EXPIRED:
        parts.append(f"<p>Expires {utc_text(c.expires_at)}.</p>")
    if c.family:
        parts.append(f"<p>{_family_note(c.family)}</p>")
    if c.link_html is not None and c.status is not _EXPIRED:
        parts.append(f'<p><a href="{c.link_html}">Redeem {c.code_html}</a></p>')
    elif game.note:
        parts.append(f"<p>{game.note_html}</p>")
    if c.sources:
        parts.append(f"<p>Listed by {c.sources_html}.</p>")
    return "".join(parts)
