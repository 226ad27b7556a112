"""Paid sends per budget scope (a day, an announcement): Telegram's paid broadcasts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('paid_spend',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=48), nullable=False),
    sa.Column('reserved', sa.BigInteger(), nullable=False),
    sa.Column('sent', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'scope', name=op.f('pk_paid_spend'))
    )


def downgrade() -> None:
    op.drop_table('paid_spend')
