"""E-mail over SMTP: a pool of persistent connections, STARTTLS and login when configured, a
throttle per provider, retries with backoff on 4xx, and a bounce on 5xx.

Each message is one SMTP transaction (MAIL FROM, RCPT TO, DATA) on a connection that stays open
between messages and between ``push`` calls. Outcomes, per message:

* 2xx after the data: ``sent``.
* 4xx anywhere: retried after ``backoff`` (up to ``max_retries`` times), then ``deferred``.
* 5xx at RCPT, DATA or after the data: ``bounced``, with the server's code and text (suppress);
  except 500-504 (syntax or command sequence: a client problem), which are ``failed``.
* 5xx at MAIL FROM: ``failed`` (the sender is refused; the recipient is not at fault).
* Connection lost before the message data was sent: retried at once on a fresh connection.
* Connection lost (or timed out) after the data was sent but before the server's reply:
  ``failed``, ``ambiguous=True``, detail ``outcome unknown``. The server may have accepted the
  message, so it is never retried here: this layer delivers at most once and the send ledger,
  which knows what it committed, decides.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from aiosmtplib import SMTP, SMTPAuthenticationError, SMTPException, SMTPResponseException

from streamwise.downstream.channels._loop import LoopThread
from streamwise.downstream.channels.base import (
    Channel,
    DeliveryResult,
    DeliveryStatus,
    OutgoingMessage,
    Throttle,
    backoff_delay,
    register_channel,
)
from streamwise.errors import ConfigError, DeliveryError

__all__ = ["SmtpChannel"]

_NEWLINES = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")
_BAD_ADDRESS = re.compile(r"[\s<>\x00-\x1f\x7f]")
_CONNECTION_ERRORS = (SMTPException, OSError, asyncio.TimeoutError)


def _wire_data(payload: bytes) -> bytes:
    """The DATA section on the wire: CRLF line ends, dot-stuffed, ended by ``.CRLF``."""
    data = _LEADING_DOT.sub(b"..", _NEWLINES.sub(b"\r\n", payload))
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


@dataclass(slots=True)
class _Job:
    index: int
    message: OutgoingMessage
    sender: str
    data: bytes
    attempts: int = 0


@dataclass(slots=True)
class _Batch:
    queue: asyncio.Queue[_Job | None]
    results: list[DeliveryResult | None]
    workers: int
    remaining: int = 0
    live: int = 0
    down: str | None = None
    timers: list[asyncio.TimerHandle] = field(default_factory=list)


@register_channel
class SmtpChannel(Channel):
    """E-mail over SMTP with a pool of persistent connections.

    Parameters
    ----------
    host, port
        The SMTP server (a relay, a provider's submission port, or a local sink).
    username, password
        Login after connecting, when both are given. The password is never shown or logged.
    starttls
        ``"auto"``: upgrade when the server offers STARTTLS; ``True``: require it; ``False``: never.
    use_tls
        Connect with implicit TLS (port 465). Exclusive with ``starttls=True``.
    pool_size
        How many connections send concurrently.
    rate_per_second
        The provider's limit on transactions per second (token bucket, shared by the pool);
        ``None`` for no limit.
    max_retries
        Retries after a 4xx reply or a lost connection (so at most ``max_retries + 1`` attempts).
    backoff
        Seconds to wait before retry 1, 2, ...; the last value repeats.
    timeout
        Seconds to wait for the server at each step.
    local_hostname
        The name sent in EHLO (default: this machine's fully qualified name).
    envelope_from
        Envelope sender for messages that have none of their own.
    tls_context
        An ``ssl.SSLContext`` to verify the server with (e.g. a private CA); default: system CAs.
    """

    name = "email"

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool | Literal["auto"] = "auto",
        use_tls: bool = False,
        pool_size: int = 4,
        rate_per_second: float | None = None,
        max_retries: int = 3,
        backoff: Sequence[float] = (0.5, 2.0, 8.0),
        timeout: float = 30.0,
        local_hostname: str | None = None,
        envelope_from: str | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if use_tls and starttls is True:
            raise ConfigError(
                "use_tls (implicit TLS, port 465) and starttls=True exclude each other"
            )
        if pool_size < 1 or max_retries < 0 or timeout <= 0:
            raise ConfigError("pool_size must be ≥ 1, max_retries ≥ 0 and timeout > 0")
        if (username is None) != (password is None):
            raise ConfigError("give both username and password for SMTP login, or neither")
        self.host, self.port = host, int(port)
        self.username = username
        self._password = password
        self.starttls = starttls
        self.use_tls = use_tls
        self.pool_size = pool_size
        self.max_retries = max_retries
        self.backoff = tuple(backoff)
        self.timeout = timeout
        self.local_hostname = local_hostname
        self.envelope_from = envelope_from
        self.tls_context = tls_context
        self.throttle = Throttle(rate_per_second)
        self.connections_opened = 0
        self._idle: list[SMTP] = []
        self._loop: LoopThread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        login = f", username={self.username!r}, password='***'" if self.username else ""
        return (
            f"SmtpChannel(host={self.host!r}, port={self.port}{login}, "
            f"starttls={self.starttls!r}, use_tls={self.use_tls}, pool_size={self.pool_size}, "
            f"rate_per_second={self.throttle.rate}, max_retries={self.max_retries})"
        )

    @property
    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    # -- the Channel interface ------------------------------------------------------------------

    def push(self, messages: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
        """Send each message in its own SMTP transaction; see the module docstring for outcomes.

        Raises
        ------
        DeliveryError
            When the channel is closed or a payload is not bytes (nothing is sent then).
        """
        if self._closed:
            raise DeliveryError(f"the SMTP channel to {self._where} is closed; open a new one")
        jobs: list[_Job] = []
        early: dict[int, DeliveryResult] = {}
        for index, message in enumerate(messages):
            if not isinstance(message.payload, bytes | bytearray):
                raise DeliveryError(
                    f"message {message.message_id!r}: an e-mail payload must be the built "
                    f"RFC 5322 message as bytes, not {type(message.payload).__name__}"
                )
            sender = message.envelope_from or self.envelope_from
            problem = self._address_problem(message.recipient, sender)
            if problem:
                early[index] = DeliveryResult(message.message_id, "failed", None, problem, 0)
                continue
            jobs.append(_Job(index, message, sender or "", _wire_data(bytes(message.payload))))
        results: list[DeliveryResult | None] = [early.get(i) for i in range(len(messages))]
        if jobs:
            with self._lock:
                if self._loop is None:
                    self._loop = LoopThread(f"smtp-{self._where}")
                self._loop.run(self._send_all(jobs, results))
        assert all(r is not None for r in results)
        return [r for r in results if r is not None]

    def close(self) -> None:
        """Say QUIT on every pooled connection and stop the channel's event loop."""
        with self._lock:
            self._closed = True
            if self._loop is not None:
                self._loop.run(self._quit_all())
                self._loop.stop()
                self._loop = None

    # -- internals --------------------------------------------------------------------------------

    @staticmethod
    def _address_problem(recipient: str, sender: str | None) -> str | None:
        if not sender:
            return "no envelope sender: set the message's envelope_from or the channel's"
        for role, address in (("recipient", recipient), ("envelope sender", sender)):
            if not address or _BAD_ADDRESS.search(address) or "@" not in address:
                return f"invalid {role} address {address!r}; fix or suppress it"
        return None

    async def _send_all(self, jobs: list[_Job], results: list[DeliveryResult | None]) -> None:
        workers = min(self.pool_size, len(jobs))
        batch = _Batch(asyncio.Queue(), results, workers, remaining=len(jobs), live=workers)
        for job in jobs:
            batch.queue.put_nowait(job)
        await asyncio.gather(*(self._worker(batch) for _ in range(workers)))
        for timer in batch.timers:
            timer.cancel()

    def _finish(
        self,
        batch: _Batch,
        job: _Job,
        status: DeliveryStatus,
        code: int | None,
        detail: str,
        *,
        ambiguous: bool = False,
    ) -> None:
        batch.results[job.index] = DeliveryResult(
            job.message.message_id, status, code, detail, job.attempts, ambiguous
        )
        batch.remaining -= 1
        if batch.remaining == 0:
            for _ in range(batch.workers):
                batch.queue.put_nowait(None)

    def _retry(self, batch: _Batch, job: _Job, delay: float) -> None:
        def again() -> None:
            if batch.down is not None:
                self._finish(batch, job, "failed", None, batch.down)
            else:
                batch.queue.put_nowait(job)

        if delay <= 0:
            again()
        else:
            batch.timers.append(asyncio.get_running_loop().call_later(delay, again))

    async def _worker(self, batch: _Batch) -> None:
        smtp = self._idle.pop() if self._idle else None
        try:
            while True:
                job = await batch.queue.get()
                if job is None:
                    return
                if batch.down is not None:
                    self._finish(batch, job, "failed", None, batch.down)
                    continue
                if smtp is None or not smtp.is_connected:
                    opened = await self._open(batch)
                    if isinstance(opened, str):
                        smtp = None
                        if batch.live > 1 and batch.down is None:
                            batch.live -= 1  # the others carry on (the server may cap connections)
                            batch.queue.put_nowait(job)
                            return
                        batch.down = batch.down or opened  # the last worker fails what is left
                        self._finish(batch, job, "failed", None, batch.down)
                        continue
                    smtp = opened
                await self._attempt(batch, job, smtp)
        finally:
            if smtp is not None and smtp.is_connected and not self._closed:
                self._idle.append(smtp)

    async def _open(self, batch: _Batch) -> SMTP | str:
        """Connect (EHLO, STARTTLS, login); on failure retry with backoff, then give up and
        return why."""
        failures = 0
        while batch.down is None:
            smtp = SMTP(
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self._password,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                use_tls=self.use_tls,
                start_tls=None if self.starttls == "auto" else bool(self.starttls),
                tls_context=self.tls_context,
            )
            try:
                await smtp.connect()
                if smtp.is_ehlo_or_helo_needed:  # without STARTTLS or login, connect() greets not
                    await smtp.ehlo()
            except SMTPAuthenticationError as exc:
                smtp.close()
                batch.down = (
                    f"not sent: {self._where} refused login for {self.username!r} "
                    f"({exc.code} {exc.message}); check the SMTP username and password"
                )
                return batch.down
            except _CONNECTION_ERRORS as exc:
                smtp.close()
                failures += 1
                if failures > self.max_retries:
                    return (
                        f"not sent: could not connect to SMTP server {self._where} "
                        f"({failures} tries: {exc}); check that it runs and the host and port"
                    )
                await asyncio.sleep(backoff_delay(self.backoff, failures))
            else:
                self.connections_opened += 1
                return smtp
        return batch.down

    async def _attempt(self, batch: _Batch, job: _Job, smtp: SMTP) -> None:
        wait = self.throttle.reserve()
        if wait > 0:
            await asyncio.sleep(wait)
        job.attempts += 1
        stage = "MAIL FROM"
        try:
            mail = [b"MAIL", b"FROM:<" + job.sender.encode() + b">"]
            if not job.data.isascii() and smtp.supports_extension("8BITMIME"):
                mail.append(b"BODY=8BITMIME")
            reply = await smtp.execute_command(*mail)
            if reply.code == 250:
                stage = "RCPT TO"
                rcpt = job.message.recipient.encode()
                reply = await smtp.execute_command(b"RCPT", b"TO:<" + rcpt + b">")
            if reply.code in (250, 251):
                stage = "DATA"
                reply = await smtp.execute_command(b"DATA")
            if reply.code != 354:
                if smtp.is_connected:
                    await self._reset(smtp)
                self._refused(batch, job, stage, reply.code, reply.message)
                return
        except _CONNECTION_ERRORS as exc:
            smtp.close()
            if job.attempts > self.max_retries:
                self._finish(
                    batch,
                    job,
                    "failed",
                    None,
                    f"not sent: connection to {self._where} lost at {stage} "
                    f"after {job.attempts} tries ({exc}); safe to send again later",
                )
            else:
                self._retry(batch, job, 0.0)  # a fresh connection is the remedy, not waiting
            return
        stage = "end of data"
        try:
            protocol = smtp.protocol
            if protocol is None:
                raise DeliveryError("connection lost")
            protocol.write(job.data)
            reply = await protocol.read_response(timeout=self.timeout)
        except (*_CONNECTION_ERRORS, DeliveryError) as exc:
            smtp.close()  # the reply, if it ever comes, would desynchronise the connection
            self._finish(
                batch,
                job,
                "failed",
                None,
                f"outcome unknown: the message data went to {self._where} but no reply came "
                f"({type(exc).__name__}: {exc}); not retried, as the server may have accepted it",
                ambiguous=True,
            )
            return
        if 200 <= reply.code < 300:
            self._finish(batch, job, "sent", reply.code, reply.message)
        else:
            self._refused(batch, job, stage, reply.code, reply.message)
        if reply.code == 421:
            smtp.close()

    def _refused(self, batch: _Batch, job: _Job, stage: str, code: int, text: str) -> None:
        detail = f"{code} {text} (at {stage})"
        if 400 <= code < 500:
            if job.attempts > self.max_retries:
                self._finish(batch, job, "deferred", code, detail)
            else:
                self._retry(batch, job, backoff_delay(self.backoff, job.attempts))
        elif code in (500, 501, 502, 503, 504):  # syntax or sequence: our fault, not the address
            self._finish(batch, job, "failed", code, f"command refused: {detail}")
        elif 500 <= code < 600 and stage != "MAIL FROM":
            self._finish(batch, job, "bounced", code, detail)
        elif 500 <= code < 600:
            self._finish(batch, job, "failed", code, f"envelope sender refused: {detail}")
        else:
            self._finish(batch, job, "failed", code, f"unexpected reply {detail}")

    async def _reset(self, smtp: SMTP) -> None:
        try:
            reply = await smtp.execute_command(b"RSET")
            if reply.code != 250:
                smtp.close()
        except _CONNECTION_ERRORS:
            smtp.close()

    async def _quit_all(self) -> None:
        idle, self._idle = self._idle, []
        for smtp in idle:
            try:
                await smtp.quit()
            except (*_CONNECTION_ERRORS, SMTPResponseException):
                smtp.close()
