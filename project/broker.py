"""kombu's Redis transport, with three holes closed that lose tasks or stop the
worker when Redis restarts under it, and one redis-py client per connection pool
instead of one per publish.

First, kombu takes a message off its queue (BRPOP) and then, in a second command,
records it as unacknowledged. When Redis goes away between the two (a restart,
a failover), the message exists only in this worker's memory and kombu drops it
with the broken connection (kombu issue #305 and its kin; seen here once in a
restart of Redis under a batch of 500 tasks).

Here a message whose record failed is kept in memory and pushed back to the
head of its queue as soon as Redis answers again, before the worker takes
anything else. The worst case becomes a second delivery (when the record was
written but its reply was lost), which idempotent tasks absorb, instead of a
lost task. Only a worker that dies before Redis is back still loses it.

Second, when the connection is lost, kombu hands this worker's unacknowledged
messages back as it closes the channel; that step can fail with an
AttributeError on the half-closed channel, which stops the whole worker instead
of letting it reconnect (seen once in six restarts). The messages are still in
Redis's unacked hash, so here the failure is logged and the visibility timeout
brings them back. Third, the same AttributeError, and the same stop, when a
task that started before the reconnect is acknowledged on the old channel; its
message stays unacknowledged and runs again after the visibility timeout.

TODO(when kombu records the message atomically with taking it, and closes a
channel after a lost connection without failing): remove this module and the
`broker_transport` setting that names it.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)

# Messages taken off a queue whose unacked record failed: (payload, exchange,
# routing key). The consumer of a worker runs in one thread.
_stranded: deque[tuple[Any, str, str]] = deque()


def _connection_errors(channel: Any) -> tuple[type[BaseException], ...]:
    # A closed channel may be gone already (None) by the time its QoS hands
    # messages back at shutdown.
    errors: tuple[type[BaseException], ...] = getattr(channel, "connection_errors", ())
    return errors


class QoS(kombu_redis.QoS):
    def append(self, message: Any, delivery_tag: str) -> None:
        try:
            super().append(message, delivery_tag)  # type: ignore[no-untyped-call]
        except self.channel.connection_errors:
            delivery = message.delivery_info
            _stranded.append(
                (message._raw, delivery["exchange"], delivery["routing_key"])
            )
            logger.warning(
                "Message %s was taken off queue %s, but Redis went away before it"
                " was recorded as unacknowledged; it goes back to the queue as"
                " soon as Redis answers",
                delivery_tag,
                delivery["routing_key"],
            )
            raise

    def ack(self, delivery_tag: str) -> None:
        try:
            super().ack(delivery_tag)  # type: ignore[no-untyped-call]
        except AttributeError as exc:
            # A task that started before a reconnect is acknowledged through the
            # old, closed channel. Unacknowledged, its message returns after the
            # visibility timeout and runs again (tasks are written for that).
            logger.warning(
                "Message %s could not be acknowledged on a closed channel (%s); it"
                " returns after the visibility timeout",
                delivery_tag,
                exc,
            )

    def restore_unacked(self, client: Any = None) -> None:
        try:
            super().restore_unacked(client)  # type: ignore[no-untyped-call]
        except Exception as exc:
            if not isinstance(exc, (AttributeError, *_connection_errors(self.channel))):
                raise
            # After a lost connection kombu may fail here, even with an
            # AttributeError from a half-closed channel, and that stops the whole
            # worker. Each of these messages is still in the unacked hash, and
            # the visibility timeout brings it back; nothing more is needed.
            logger.warning(
                "%d unacknowledged message(s) stay in Redis and return after the"
                " visibility timeout (%s: %s)",
                len(self._delivered),
                type(exc).__name__,
                exc,
            )
            self._delivered.clear()


class Channel(kombu_redis.Channel):
    QoS = QoS
    _publish_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        # kombu builds a new redis-py client for every publish and acknowledgement
        # (a tenth of an e-mail worker's CPU). A client only wraps its connection
        # pool and is safe to share between threads, so one per pool serves them
        # all; a new pool (after a reconnect) gets a new client.
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[no-untyped-call]
        client = self._publish_client
        if client is None or client.connection_pool is not self.pool:
            client = self._publish_client = super()._create_client()  # type: ignore[no-untyped-call]
        return client

    def _brpop_start(self, timeout: float | None = None) -> None:
        if _stranded:
            self._put_back_stranded()
        super()._brpop_start(timeout)  # type: ignore[no-untyped-call]

    def _put_back_stranded(self) -> None:
        with self.conn_or_acquire() as client:
            while _stranded:
                payload, exchange, routing_key = _stranded[0]
                with client.pipeline() as pipe:
                    self._do_restore_message(payload, exchange, routing_key, pipe)  # type: ignore[no-untyped-call]
                    pipe.execute()
                _stranded.popleft()
                logger.info("A stranded message went back to queue %s", routing_key)


class Transport(kombu_redis.Transport):
    Channel = Channel


# The value of Celery's `broker_transport` that selects this transport.
TRANSPORT = f"{__name__}:Transport"
