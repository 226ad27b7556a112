"""Deliveries: an index of the pending rows in the order they are claimed, in place of the
index by state and due time (with which every claim sorted the whole backlog).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_deliveries_due', table_name='deliveries')
    op.create_index(
        'ix_deliveries_pending',
        'deliveries',
        ['platform', 'id'],
        unique=False,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index('ix_deliveries_pending', table_name='deliveries')
    op.create_index(
        'ix_deliveries_due', 'deliveries', ['platform', 'state', 'next_attempt_at'], unique=False
    )
