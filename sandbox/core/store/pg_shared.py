"""What processes sharing one PostgreSQL database tell each other about the stored state each keeps in memory.

A process keeps some stored state in memory (each namespace's clock, the set of namespaces, the sorted scenario
rules). A change to it is announced under a topic (`clock:<namespace>`, `namespaces`, `scenarios:<namespace>`):
`shared_changes` counts the announcements of each topic, and of all of them under ANY, bumped in the changing
transaction just before it commits (in topic order, so two announcing transactions never deadlock). Every process
reads ANY's count once per request, one primary-key read; only when it has moved does it read every topic's count,
to re-read the state that changed. Clock and namespace changes also NOTIFY `paysandbox` with their topic: that
wakes the other processes' background workers at once.

Presence: every process holds a shared session advisory lock on the database while it runs. One that can take it
exclusively when it opens the store is alone: the sandbox is starting afresh, so its own settings (`--clock`)
apply; one that cannot has joined running processes and adopts their state.
"""

from __future__ import annotations

import psycopg

from sandbox.core.store.database import advisory_key, connect

ANY = "*"
CHANNEL = "paysandbox"
WAKING = ("clock:", "namespaces")  # topics that concern the background workers
COUNT = "SELECT version FROM shared_changes WHERE topic = %s"
COUNTS = "SELECT topic, version FROM shared_changes WHERE topic <> %s"
BUMP = """
INSERT INTO shared_changes (topic, version)
SELECT topic, 1 FROM unnest(%s::text[]) WITH ORDINALITY AS announced(topic, place) ORDER BY place
ON CONFLICT (topic) DO UPDATE SET version = shared_changes.version + 1
"""
NOTIFY = "SELECT pg_notify(%s, topic) FROM unnest(%s::text[]) AS announced(topic)"
PRESENCE = advisory_key("processes")

Steps = list[tuple[str, object]]


def announcing(topics: set[str]) -> Steps:
    """The statements that count these topics' changes (and wake the workers they concern), in a transaction."""
    ordered = [ANY, *sorted(topics)]
    steps: Steps = [(BUMP, (ordered,))]
    waking = [topic for topic in ordered if topic.startswith(WAKING)]
    if waking:
        steps.append((NOTIFY, (CHANNEL, waking)))
    return steps


def change_count(conn: psycopg.Connection) -> int:
    row = conn.execute(COUNT, (ANY,)).fetchone()
    return row[0] if row else 0


def topic_counts(conn: psycopg.Connection) -> dict[str, int]:
    return dict(conn.execute(COUNTS, (ANY,)).fetchall())


class Presence:
    """This process's session on the database, holding the presence lock shared until the store closes."""

    def __init__(self, url: str) -> None:
        self._conn = connect(url)
        alone = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (PRESENCE,)).fetchone()[0]
        self._conn.execute("SELECT pg_advisory_lock_shared(%s)", (PRESENCE,))
        if alone:
            self._conn.execute("SELECT pg_advisory_unlock(%s)", (PRESENCE,))
        self.joined = not alone

    def close(self) -> None:
        self._conn.close()
