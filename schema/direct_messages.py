"""Direct IM messages: which providers an administrator set up, and a member binding their
own direct messages (resolvers/im.py `bind_direct`)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import im
from schema.base import ImProvider
from schema.context import Info
from schema.errors import CommonErrors, RateLimitedError
from schema.permissions import Policy, guard, guard_query
from schema.subscriber import ImDestinationType


@strawberry.input
class BindDirectMessagesInput:
    provider: ImProvider
    name: str = ""


@strawberry.type
class BindDirectMessagesPayload:
    destination: ImDestinationType


BindDirectMessagesResult = Annotated[
    BindDirectMessagesPayload | CommonErrors | RateLimitedError,
    strawberry.union("BindDirectMessagesResult"),
]


@strawberry.type
class Query:
    @strawberry.field(description="Providers through which you can get direct messages (an "
                                  "administrator set up their app; signed-in members).",
                      extensions=guard_query(Policy.SIGNED_IN))
    async def direct_message_providers(self, info: Info) -> list[ImProvider]:
        return im.direct_providers()


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.SIGNED_IN), description=(
        "Get notices as direct messages from the provider's app: the provider finds you by "
        "your account's email address. Subscribe the destination like any other."))
    async def bind_direct_messages(self, info: Info, input: BindDirectMessagesInput
                                   ) -> BindDirectMessagesResult:
        destination = await im.bind_direct(actor=info.context.actor, provider=input.provider,
                                           name=input.name)
        return BindDirectMessagesPayload(destination=ImDestinationType.from_model(destination))
