"""Real RPC-style dependencies on 127.0.0.1: AWS (moto's server) and GraphQL APIs
(strawberry under uvicorn), each started on a free port and stopped after.

The one home of these starters: the workload tests and the replay kit use them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import strawberry
import uvicorn
from strawberry.asgi import GraphQL


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server (every AWS service) on 127.0.0.1, a free port; yields its URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


BOOKS = {
    "1": {"id": "1", "title": "Dune", "author": "Frank Herbert", "genre": "sf"},
    "2": {"id": "2", "title": "Emma", "author": "Jane Austen", "genre": "novel"},
    "3": {"id": "3", "title": "Solaris", "author": "Stanislaw Lem", "genre": "sf"},
}


@strawberry.type
class Book:
    id: strawberry.ID
    title: str
    author: str
    genre: str


@strawberry.type
class Author:
    name: str
    books: list[Book]


@strawberry.type
class Query:
    @strawberry.field
    def book(self, id: strawberry.ID) -> Book | None:
        found = BOOKS.get(str(id))
        return Book(**found) if found else None

    @strawberry.field
    def books(self, genre: str | None = None) -> list[Book]:
        return [Book(**b) for b in BOOKS.values() if genre in (None, b["genre"])]

    @strawberry.field
    def author(self, name: str) -> Author:
        return Author(name=name, books=[Book(**b) for b in BOOKS.values()
                                        if b["author"] == name])

    @strawberry.field
    def inventory(self) -> int:
        raise ValueError("inventory service unavailable")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def add_book(self, title: str, author: str, genre: str = "novel") -> Book:
        book = {"id": str(len(BOOKS) + 1), "title": title, "author": author, "genre": genre}
        BOOKS.setdefault(book["id"], book)
        return Book(**book)


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation)


@contextmanager
def graphql_server(app: GraphQL | None = None) -> Iterator[str]:
    """uvicorn serving a strawberry ``app`` (the books API above unless given) on
    127.0.0.1, a free port; yields its base URL. WebSockets (subscriptions) are
    served by uvicorn's sans-I/O ``websockets`` protocol."""
    config = uvicorn.Config(app or GraphQL(SCHEMA), host="127.0.0.1", port=0,
                            log_level="warning", ws="websockets-sansio", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (server.started and server.servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the GraphQL server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
