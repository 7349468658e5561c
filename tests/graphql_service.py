"""A small GraphQL dependency (strawberry): users, mutations, an error, a subscription.

Module-level types (strawberry resolves annotations in the module's globals);
``graphql_app()`` starts from the same six users every time.
"""

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from strawberry.asgi import GraphQL

NAMES = ["Ada", "Grace", "Linus", "Edsger", "Barbara", "Alan"]
PEOPLE: dict[int, dict] = {}


@strawberry.type
class User:
    id: strawberry.ID
    name: str
    email: str
    age: int


def _user(n: int) -> User:
    return User(**PEOPLE[n])


@strawberry.type
class Query:
    @strawberry.field
    def user(self, id: strawberry.ID) -> User | None:
        return _user(int(id)) if int(id) in PEOPLE else None

    @strawberry.field
    def users(self, limit: int = 10, offset: int = 0) -> list[User]:
        return [_user(n) for n in sorted(PEOPLE)[offset:offset + limit]]

    @strawberry.field
    def search(self, text: str) -> list[User]:
        return [_user(n) for n in sorted(PEOPLE) if text.lower() in PEOPLE[n]["name"].lower()]

    @strawberry.field
    def secret_report(self) -> str:
        raise PermissionError("reports need the auditor role")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def add_user(self, name: str, email: str) -> User:
        n = max(PEOPLE) + 1
        PEOPLE[n] = {"id": str(n), "name": name, "email": email, "age": 18}
        return _user(n)

    @strawberry.mutation
    def rename_user(self, id: strawberry.ID, name: str) -> User:
        PEOPLE[int(id)]["name"] = name
        return _user(int(id))


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def countdown(self, start: int) -> AsyncGenerator[int, None]:
        for n in range(start, 0, -1):
            yield n
            await asyncio.sleep(0)


def graphql_app() -> GraphQL:
    PEOPLE.clear()
    PEOPLE.update({n: {"id": str(n), "name": name, "email": f"{name.lower()}@example.com",
                       "age": 20 + 7 * n} for n, name in enumerate(NAMES, start=1)})
    return GraphQL(strawberry.Schema(Query, Mutation, Subscription))
