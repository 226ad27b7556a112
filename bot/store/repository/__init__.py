"""The repository: every query codecast makes, by topic; each takes an AsyncSession.

Callers own the transaction (`async with sessions.begin() as session:`); functions here
never commit. The names are gathered here so callers write `repository.subscribe(...)`.
"""

from bot.store.repository.codes import (
    AppliedCycle,
    apply_diff,
    create_announcement,
    last_listings,
    stored_codes,
)
from bot.store.repository.languages import (
    ChatLanguage,
    chat_language,
    forget_chat_language,
    move_chat_language,
    set_chat_language,
)
from bot.store.repository.reminders import REMIND_WITHIN, remind_expiring
from bot.store.repository.sent import SentMessage, sent_with_codes_expired_since
from bot.store.repository.sources import (
    PollCost,
    SourceState,
    record_source_failure,
    record_source_success,
    source_health,
    source_state,
    source_states,
    sync_sources,
)
from bot.store.repository.subscriptions import (
    Subscription,
    chat_subscriptions,
    count_subscriptions,
    deactivate_chat,
    deactivate_space,
    migrate_chat,
    space_subscriptions,
    subscribe,
    unsubscribe,
)
from bot.store.repository.targets import (
    ORIGIN_CLI,
    ORIGIN_CONFIG,
    ORIGIN_DISCORD,
    Target,
    TargetStatus,
    disable_target,
    get_target,
    record_target_failure,
    record_target_success,
    save_target,
    target_key,
    target_statuses,
    targets_of_origin,
)
from bot.store.repository.views import (
    announcement_codes,
    current_codes,
    load_announcement,
    public_codes,
)

__all__ = [
    "ORIGIN_CLI",
    "ORIGIN_CONFIG",
    "ORIGIN_DISCORD",
    "REMIND_WITHIN",
    "AppliedCycle",
    "ChatLanguage",
    "PollCost",
    "SentMessage",
    "SourceState",
    "Subscription",
    "Target",
    "TargetStatus",
    "announcement_codes",
    "apply_diff",
    "chat_language",
    "chat_subscriptions",
    "count_subscriptions",
    "create_announcement",
    "current_codes",
    "deactivate_chat",
    "deactivate_space",
    "disable_target",
    "forget_chat_language",
    "get_target",
    "last_listings",
    "load_announcement",
    "migrate_chat",
    "move_chat_language",
    "public_codes",
    "record_source_failure",
    "record_source_success",
    "record_target_failure",
    "record_target_success",
    "remind_expiring",
    "save_target",
    "sent_with_codes_expired_since",
    "set_chat_language",
    "source_health",
    "source_state",
    "source_states",
    "space_subscriptions",
    "stored_codes",
    "subscribe",
    "sync_sources",
    "target_key",
    "target_statuses",
    "targets_of_origin",
    "unsubscribe",
]
