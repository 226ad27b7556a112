"""Discord webhooks: announcements posted through a channel's webhook URL, no bot needed."""
