"""Discord: slash commands, per-channel subscriptions and announcements with discord.py."""
