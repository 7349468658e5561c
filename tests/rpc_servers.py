"""Real RPC-style dependencies on 127.0.0.1: AWS (moto's server) and a GraphQL API
(strawberry under uvicorn), each started on a free port and stopped after."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import strawberry
import uvicorn
from strawberry.asgi import GraphQL


@contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

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
def graphql_server() -> Iterator[str]:
    config = uvicorn.Config(GraphQL(SCHEMA), host="127.0.0.1", port=0, log_level="error",
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the GraphQL server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
