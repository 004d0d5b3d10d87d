"""What global search needs beyond the tables it searches (migrations 0011 and 0012).

``search_words`` is the vocabulary of the words in customers' names and service addresses,
lower case, without pure numbers. On PostgreSQL a trigger on ``customers`` keeps it filled
(words are never removed: a word no longer used just finds nothing), and a trigram index
on it corrects a misspelt word in well under a millisecond; the corrected words are then
looked up in ``customers`` through GIN word indexes on ``name`` and ``service_address``
(``to_tsvector('simple', ...)``, migration 0012). On SQLite the table stays empty and
search ranks ``LIKE`` candidates in Python.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fiberdesk.db.base import Base

#: the longest word kept in the vocabulary
WORD_LENGTH = 64


class SearchWord(Base):
    __tablename__ = "search_words"
    __table_args__ = (
        sa.Index(
            "ix_search_words_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
    )
    word: Mapped[str] = mapped_column(sa.String(WORD_LENGTH), primary_key=True)


#: GIN indexes on the words of the searched columns, made by migration 0012 on PostgreSQL
#: only (``to_tsvector('simple', column)``); not in the metadata, since SQLite has no
#: such function: the migrations test leaves them out of its comparison
POSTGRES_ONLY_INDEXES = frozenset({"ix_customers_name_words", "ix_customers_address_words"})
