"""What the composition root needs from a delivery target kind: its sender and lifecycle."""

from __future__ import annotations

from typing import Protocol

from bot.core.domain import Platform
from notifiers.delivery import Sender
from notifiers.expiry import ExpiryWatcher


class ChatService(Protocol):
    """A platform's bot: started and stopped by the composition root on the shared loop."""

    # Read-only in the protocol, so a service may hold a more specific sender type.
    @property
    def platform(self) -> Platform: ...

    @property
    def sender(self) -> Sender: ...

    # Whether sent messages can be edited in place (expired codes struck): said outright, so
    # the delivery contract knows which kinds must pass its edit case.
    @property
    def can_edit(self) -> bool: ...

    # Edits sent announcements when their codes expire; None when the platform cannot edit.
    @property
    def expiry(self) -> ExpiryWatcher | None: ...

    async def start(self, *, commands: bool = True) -> None:
        """Log in; with `commands`, also listen for users' commands. Returns once running."""
        ...

    async def stop(self) -> None:
        """Stop listening and close connections; safe to call after a failed start."""
        ...
