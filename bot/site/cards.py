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
from bot.site.localize import CardWords
from bot.site.view import (
    ShownCode,
    ShownGame,
    ShownItem,
    html_text,
    plain_anchor,
)

# The front page cuts long rewards texts; the game page shows them whole.
FRONT_REWARDS_LENGTH = 70

_EXPIRED = CodeStatus.EXPIRED
_UNKNOWN = CodeStatus.UNKNOWN


class _Parts:
    """The pieces many cards share, built once per page: item rows and source lists.

    `root` leads from the page to the site root ("", "../" or "../../"), for icons; `pages`
    to the root of the page's language, for links to its other pages. `cw` holds the words
    of the page's language.
    """

    def __init__(self, cw: CardWords, root: str, pages: str | None = None) -> None:
        self.cw = cw
        self.root = root
        self.pages = root if pages is None else pages
        self._items: dict[tuple[ShownItem, ...], str] = {}
        self._sources: dict[tuple[str, ...], str] = {}

    def items(self, items: tuple[ShownItem, ...]) -> str:
        """The items with their icons (for codes whose ShownCode.pictured is true)."""
        known = self._items.get(items)
        if known is None:
            known = self._items[items] = " ".join(self._item(i) for i in items)
        return known

    def _item(self, item: ShownItem) -> str:
        cw = self.cw
        amount = "" if item.amount is None else cw.amount(item.amount)
        name = cw.items_html((item._replace(amount=None),)) if item.name else ""
        icon = item.icon
        unnamed = cw.unnamed
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

    def rewards(self, c: ShownCode) -> str:
        """A code's rewards as HTML: in English the source's words; in another language the
        items in its words when the source named every one, else the source's words."""
        localized = self.cw.localized_rewards(c)
        return c.rewards_html if localized is None else localized

    def sources(self, sources: tuple[str, ...], labels: tuple[str, ...]) -> str:
        """Who lists a code, linked to their entries on sources.html: "listed by HoYoLAB,
        Fandom", and "reported by players" when players reported it."""
        known = self._sources.get(sources)
        if known is None:
            cw = self.cw
            page = f"{self.pages}sources.html"
            links = {
                s: f'<a href="{page}#{source_anchor(s)}">{html_text(cw.source_label(s, name))}</a>'
                for s, name in zip(sources, labels, strict=True)
            }
            reported = links.pop(PLAYERS.id, None)
            said = [cw.listed_by % {"sources": cw.separator.join(links.values())}] if links else []
            if reported is not None:
                said.append(reported)
            known = self._sources[sources] = " · ".join(said)
        return known


def source_anchor(source_id: str) -> str:
    """The id of a source's entry on sources.html."""
    return "src-" + plain_anchor(source_id)


def game_cards(
    codes: Iterable[ShownCode], cw: CardWords, root: str = "../", pages: str | None = None
) -> Markup:
    """The <li> cards of a game page's list, one per line."""
    parts = _Parts(cw, root, pages)
    # Safe: every web text in a card was escaped once, by html_text in view.py.
    return Markup("".join([card(c, parts) for c in codes]))  # noqa: S704


def card(c: ShownCode, parts: _Parts) -> str:
    # The copy button is added by site.js: without JavaScript there is no dead button,
    # and the code stays plain selectable text.
    cw = parts.cw
    expired = c.status is _EXPIRED
    redeem = (
        f' <a class="redeem" href="{c.link_html}" rel="noopener" target="_blank">'
        f'{cw.redeem}<span class="vh"> {c.code_html}</span></a>'
        if c.link_html is not None and not expired
        else ""
    )
    flag = f'<p class="flag">{cw.unconfirmed_status}</p>\n' if c.status is _UNKNOWN else ""
    if c.pictured:
        rewards = f'<p class="rw items">{parts.items(c.items)}</p>\n'
    else:
        rewards = f'<p class="rw">{parts.rewards(c) or cw.no_rewards}</p>\n'
    seen = cw.time(c.first_seen)
    e = c.expires_at
    expiry = " · " + cw.time(e, cw.expired if expired else cw.expires, ' class="exp"') if e else ""
    sources = f" · {parts.sources(c.sources, c.source_labels)}" if c.sources else ""
    family = f'<p class="fam">{cw.family % {"family": c.family}}</p>\n' if c.family else ""
    checked = _checked(c, cw) if c.verification != "unverified" else ""
    first = cw.first_seen % {"when": seen}
    return (
        f'<li class="card{" old" if expired else ""}" id="{c.anchor}">\n'
        f'<p class="line"><code class="code">{c.code_html}</code>{redeem}</p>\n'
        f"{checked}{flag}{rewards}"
        f'<p class="meta">{first}{expiry}{sources}</p>\n'
        f"{family}</li>\n"
    )


def _checked(c: ShownCode, cw: CardWords) -> str:
    """What HoYoverse's redeem endpoint says of the code, as a line of its card."""
    v = c.verification
    if v == "pending":
        return f'<p class="ver checking">{cw.checking_card}</p>\n'
    t = c.verified_at
    checked = cw.checked_when % {"when": cw.time(t)} if t else cw.checked
    if v == "valid":
        return f'<p class="ver ok">{cw.accepted} · {checked}</p>\n'
    if v == "expired":
        return f'<p class="ver gone">{cw.said_expired} · {checked}</p>\n'
    if v == "invalid":
        return f'<p class="ver no">{cw.rejected} · {checked}</p>\n'
    return ""


def front_lines(
    codes: Iterable[ShownCode], cw: CardWords, root: str = "", pages: str | None = None
) -> Markup:
    """The front page's <li> lines for a game's current codes, one per line."""
    parts = _Parts(cw, root, pages)
    # Safe: every web text in a line was escaped once, by html_text in view.py.
    return Markup("\n".join([front_line(c, parts) for c in codes]))  # noqa: S704


def front_line(c: ShownCode, parts: _Parts) -> str:
    cw = parts.cw
    redeem = (
        f' <a href="{c.link_html}" rel="noopener" target="_blank">'
        f'{cw.redeem}<span class="vh"> {c.code_html}</span></a>'
        if c.link_html is not None
        else ""
    )
    flag = f" <em>{cw.unconfirmed}</em>" if c.status is _UNKNOWN else ""
    if c.verification == "valid":
        flag = f' <em class="ver ok">{cw.checked_mark}</em>'
    elif c.verification == "pending":
        flag = f' <em class="ver checking">{cw.checking}</em>'
    rewards = ""
    if c.pictured:
        rewards = f' <span class="rw items">{parts.items(c.items)}</span>'
    elif (localized := cw.localized_rewards(c)) is not None:
        rewards = f' <span class="rw">{localized}</span>'
    elif c.rewards_text:
        text = c.rewards_text
        short = (
            c.rewards_html
            if len(text) <= FRONT_REWARDS_LENGTH
            else html_text(text[: FRONT_REWARDS_LENGTH - 1] + "…")
        )
        rewards = f' <span class="rw">{short}</span>'
    # Dates only, to keep the front page small; the script turns them into "3 h ago" and
    # "expires in 2 days" in the reader's time zone and language.
    e = c.expires_at
    expiry = (
        f' · <time class="exp" datetime="{e}">{cw.expires % {"when": cw.day(e)}}</time>'
        if e
        else ""
    )
    found = cw.found % {"when": f'<time datetime="{c.first_seen}">{cw.day(c.first_seen)}</time>'}
    return (
        f'<li><code class="code">{c.code_html}</code>{redeem}{flag}{rewards}'
        f' <span class="when">{found}{expiry}</span></li>'
    )


def entry_html(game: ShownGame, c: ShownCode, cw: CardWords, name_html: str | None = None) -> str:
    """A feed entry's body: the code, its rewards, dates, sources and where to redeem it.
    `name_html` is the game's name in the entry's language (the catalog's when None)."""
    game_html = name_html if name_html is not None else game.name_html
    parts = [
        f"<p>{cw.entry_code % {'code': f'<code>{c.code_html}</code>', 'game': game_html}}</p>"
    ]
    localized = cw.localized_rewards(c)
    rewards = c.rewards_html if localized is None else localized
    if rewards:
        parts.append(f"<p>{cw.entry_rewards % {'rewards': rewards}}</p>")
    if c.status is _EXPIRED:
        parts.append(f"<p>{cw.entry_expired}</p>")
    elif c.verification == "valid" and c.verified_at:
        parts.append(f"<p>{cw.entry_accepted % {'when': cw.minute(c.verified_at)}}</p>")
    elif c.verification == "pending":
        parts.append(f"<p>{cw.entry_checking}</p>")
    elif c.status is _UNKNOWN:
        parts.append(f"<p>{cw.entry_unconfirmed}</p>")
    if c.expires_at and c.status is not _EXPIRED:
        parts.append(f"<p>{cw.entry_expires % {'when': cw.minute(c.expires_at)}}</p>")
    if c.family:
        parts.append(f"<p>{cw.family % {'family': c.family}}</p>")
    if c.link_html is not None and c.status is not _EXPIRED:
        parts.append(
            f'<p><a href="{c.link_html}">{cw.entry_redeem % {"code": c.code_html}}</a></p>'
        )
    elif game.note:
        parts.append(f"<p>{game.note_html}</p>")
    if c.sources:
        names = cw.separator.join(
            dict.fromkeys(
                html_text(cw.source_label(s, label))
                for s, label in zip(c.sources, c.source_labels, strict=True)
            )
        )
        parts.append(f"<p>{cw.entry_listed % {'sources': names}}</p>")
    return "".join(parts)
