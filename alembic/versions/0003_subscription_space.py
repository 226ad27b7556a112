"""Subscriptions keep no platform's columns: Discord's guild is the chat's space, its role an option.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_subscriptions = sa.table(
    'subscriptions',
    sa.column('id', sa.Integer),
    sa.column('role_id', sa.String(64)),
    sa.column('options', sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table('subscriptions') as batch:
        batch.alter_column('guild_id', new_column_name='space_id')
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_subscriptions.c.id, _subscriptions.c.role_id, _subscriptions.c.options)
        .where(_subscriptions.c.role_id.is_not(None))
    ).all()
    for row_id, role_id, options in rows:
        connection.execute(
            _subscriptions.update()
            .where(_subscriptions.c.id == row_id)
            .values(options={**(options or {}), 'role_id': role_id})
        )
    with op.batch_alter_table('subscriptions') as batch:
        batch.drop_column('role_id')


def downgrade() -> None:
    with op.batch_alter_table('subscriptions') as batch:
        batch.add_column(sa.Column('role_id', sa.String(length=64), nullable=True))
        batch.alter_column('space_id', new_column_name='guild_id')
    connection = op.get_bind()
    rows = connection.execute(sa.select(_subscriptions.c.id, _subscriptions.c.options)).all()
    for row_id, options in rows:
        if options and 'role_id' in options:
            rest = {k: v for k, v in options.items() if k != 'role_id'}
            connection.execute(
                _subscriptions.update()
                .where(_subscriptions.c.id == row_id)
                .values(role_id=options['role_id'], options=rest)
            )
