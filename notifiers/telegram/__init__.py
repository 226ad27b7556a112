"""Telegram: the python-telegram-bot Application, its commands, and the announcement sender."""
