"""global search: word indexes on customers' names and service addresses (PostgreSQL)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 09:30:00.000000

GIN indexes on the words of ``customers.name`` and ``customers.service_address``
(``to_tsvector('simple', ...)``: lower-case words, no stemming, no stop words). Search
looks the (corrected) words of a query up in them, a prefix for each: a few posting lists
per query however many customers there are, where the trigram indexes of 0011 had to
intersect the long lists of common trigrams (a name like "Hereford" took up to half a
second among 500,000 customers). PostgreSQL only: on SQLite search ranks ``LIKE``
candidates and nothing is created. They are not in the models' metadata (SQLite has no
``to_tsvector``); ``fiberdesk.db.models.search.POSTGRES_ONLY_INDEXES`` names them.

The trigram indexes of 0011 on the two columns, no longer used, are dropped on both
databases (on SQLite they were plain B-tree indexes).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_customers_name_words": "name",
    "ix_customers_address_words": "service_address",
}


TRIGRAM_INDEXES = {
    "ix_customers_name_trgm": "name",
    "ix_customers_address_trgm": "service_address",
}


def upgrade() -> None:
    for name in TRIGRAM_INDEXES:
        op.drop_index(name, table_name="customers")
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, column in INDEXES.items():
        words = f"to_tsvector('simple'::regconfig, {column})"
        op.execute(f"CREATE INDEX {name} ON customers USING gin ({words})")
    # the planner needs statistics on the indexed expressions, else it reads the whole
    # table for a word it cannot estimate
    op.execute("ANALYZE customers")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, column in TRIGRAM_INDEXES.items():
        op.create_index(
            name,
            "customers",
            [column],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )
