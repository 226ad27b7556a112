"""Targets named by a URL (webhooks, Apprise), live boards, and reminders of expiring codes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('codes') as batch:
        batch.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('announcements') as batch:
        batch.add_column(
            sa.Column('kind', sa.String(length=16), nullable=False, server_default='new')
        )
    # The default was for the rows already there; the model sets it from now on.
    with op.batch_alter_table('announcements') as batch:
        batch.alter_column('kind', server_default=None)
    op.create_table('targets',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('signing_key', sa.Text(), nullable=True),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_targets'))
    )
    op.create_table('boards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('space_id', sa.String(length=64), nullable=True),
    sa.Column('game', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('shown', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boards'))
    )
    op.create_index('ix_boards_platform_active', 'boards', ['platform', 'active'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_boards_platform_active', table_name='boards')
    op.drop_table('boards')
    op.drop_table('targets')
    with op.batch_alter_table('announcements') as batch:
        batch.drop_column('kind')
    with op.batch_alter_table('codes') as batch:
        batch.drop_column('reminded_at')
