"""Subscriptions: the audience of the chat (how many people a message there reaches), so
that announcements reach the biggest chats first.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('subscriptions') as batch:
        batch.add_column(sa.Column('audience', sa.Integer(), nullable=True))
    # What is known without asking: a Telegram chat with a positive id is a private chat (its
    # user's id); groups and channels have negative ids, and their size is learnt at the next
    # /subscribe. Every other chat stays unknown (a group of unknown size).
    op.execute(
        "UPDATE subscriptions SET audience = 1 "
        "WHERE platform = 'telegram' AND chat_id NOT LIKE '-%'"
    )


def downgrade() -> None:
    with op.batch_alter_table('subscriptions') as batch:
        batch.drop_column('audience')
