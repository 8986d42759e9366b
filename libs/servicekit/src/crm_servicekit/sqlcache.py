"""PostgreSQL's `INSERT ... ON CONFLICT` as a statement SQLAlchemy's compiled cache keeps.

SQLAlchemy never caches a statement made with `sqlalchemy.dialects.postgresql.insert`: its ON
CONFLICT clauses have no cache key, so the dialect's `Insert` opts out (the engine's log says
`[no key]`) and every execution compiles it again. On the hot paths (the inbox claim of every
event, the upserts of the busiest handlers) that compile was 0.2-0.4 ms of CPU per statement.

`frozen(stmt)` compiles such a statement once, when it is built (at import, or under
`functools.cache`), into a `text()` with the same SQL, the same typed bind parameters and typed
RETURNING columns. A text statement has a cache key, so it is compiled once per engine and its
rows are read with the columns' types as before. Only for statements whose shape never changes:
values come in as `bindparam`s at execution (a literal value would be frozen in with it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine.interfaces import BindTyping
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import BindParameter, TextClause
from sqlalchemy.sql.selectable import TextualSelect

# Named parameters for text(); no `::TYPE` casts written into the SQL (the engine's own dialect
# adds the casts it needs to each typed parameter when it compiles the text).
_DIALECT = postgresql.dialect(paramstyle="named")  # type: ignore[no-untyped-call]
_DIALECT.bind_typing = BindTyping.NONE


def bound(*columns: str) -> dict[str, BindParameter[Any]]:
    """`.values(bound("a", "b"))`: each column's value as a parameter of the column's type."""
    return {column: bindparam(column) for column in columns}


def frozen(stmt: Insert) -> TextClause | TextualSelect:
    """`stmt` as cacheable text: same SQL, typed parameters, typed RETURNING columns."""
    compiled = stmt.compile(dialect=_DIALECT)
    binds = []
    for name, bind in compiled.binds.items():
        if bind.expanding:
            raise ValueError(f"{name}: an IN list changes the SQL with its length; it cannot be frozen")
        if bind.callable is not None or (bind.value is not None and not bind.required):
            raise ValueError(
                f"a literal {type(bind.value).__name__} would be frozen in; pass it as a bindparam()"
            )
        binds.append(bindparam(name, type_=bind.type))
    frozen_text = text(compiled.string).bindparams(*binds)
    returning: Any = stmt._returning  # the statement's RETURNING columns, typed
    return frozen_text.columns(*returning) if returning else frozen_text
