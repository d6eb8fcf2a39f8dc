"""The Controller's connections to its dependencies, built once per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from nanogrid.aws import AwsClients, queue_url
from nanogrid.controller.behaviour import ControllerBehaviour
from nanogrid.controller.runs import RunService
from nanogrid.registry import FunctionRegistry
from nanogrid.results import ResultStore, connect
from nanogrid.settings import Settings

log = logging.getLogger("nanogrid.controller")


@dataclass
class Services:
    """What the routes use. Building it does not require Redis to be reachable."""

    clients: AwsClients
    registry: FunctionRegistry
    store: ResultStore
    queue_url: str
    runs: RunService

    @classmethod
    def build(cls, settings: Settings, behaviour: ControllerBehaviour) -> Services:
        clients = AwsClients.from_settings(settings)
        try:
            url = queue_url(clients, settings)
        except (BotoCoreError, ClientError) as exc:
            raise RuntimeError(
                f"cannot find SQS queue {settings.queue!r}: "
                f"set NANOGRID_QUEUE_URL or create the queue ({exc})"
            ) from exc
        client = connect(
            settings.redis_url, settings.redis_connect_timeout, settings.redis_socket_timeout
        )
        # Subscriptions get a client without retries: a silent Redis costs one timeout, once.
        subscriber = connect(
            settings.redis_url,
            settings.redis_connect_timeout,
            settings.redis_socket_timeout,
            retries=0,
        )
        store = ResultStore(client, settings.result_ttl)
        registry = FunctionRegistry(clients, settings.bucket, settings.table)
        runs = RunService(settings, behaviour, clients, registry, store, url, subscriber)
        return cls(clients, registry, store, url, runs)

    def close(self) -> None:
        self.store.client.close()
        self.runs.subscriber.close()
