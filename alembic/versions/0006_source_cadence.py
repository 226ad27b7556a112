"""Sources: the wiki revision id of the last read, when the last listing was stored, traffic.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ('polls', 'requests', 'bytes_received')


def upgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.add_column(sa.Column('revision', sa.Text(), nullable=True))
        batch.add_column(sa.Column('listed_at', sa.DateTime(timezone=True), nullable=True))
        for name in COUNTERS:
            batch.add_column(
                sa.Column(name, sa.BigInteger(), nullable=False, server_default='0')
            )
        batch.add_column(sa.Column('last_poll_bytes', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('counted_since', sa.DateTime(timezone=True), nullable=True))
    # The defaults were for the rows already there; the models set them from now on.
    with op.batch_alter_table('sources') as batch:
        for name in COUNTERS:
            batch.alter_column(name, server_default=None)
    # What each source listed last: the links it stamped at its latest read.
    op.execute(
        'UPDATE sources SET listed_at = (SELECT max(code_sources.last_seen) '
        'FROM code_sources WHERE code_sources.source_id = sources.id)'
    )


def downgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        for name in ('counted_since', 'last_poll_bytes', *reversed(COUNTERS), 'listed_at',
                     'revision'):
            batch.drop_column(name)
