"""Throughput of `SmtpChannel` into a local SMTP sink (issue 6 goal: ≥ 1,000 messages/s, 2 cores).

An aiosmtpd sink that accepts everything runs in its own process on 127.0.0.1; this process
pushes N pre-built ~5 KB messages through `SmtpChannel(pool_size=P)` for each P given, and prints
messages/s, this process's peak memory, and the CPU the sink used (a sink near 1 CPU-second per
second of wall time is the bottleneck, not the client).

    .venv/bin/python benchmarks/smtp_sink.py --messages 20000 --pool-sizes 1 2 4 8
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import socket
import time

from streamwise.downstream.channels import OutgoingMessage, SmtpChannel


def _sink(port: int, ready: mp.Event, stop: mp.Event, usage: mp.Queue) -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd)
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    usage.put(ru.ru_utime + ru.ru_stime)


def _message(i: int) -> OutgoingMessage:
    body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n" * 66
    payload = (
        f"From: News <news@shop.example>\r\nTo: <c{i}@example.com>\r\n"
        f"Subject: Offer {i}\r\nMessage-ID: <{i}@shop.example>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()
    return OutgoingMessage(f"m{i}", f"c{i}@example.com", payload, "bounces@shop.example")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--pool-sizes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--batch", type=int, default=1_000, help="messages per push call")
    args = parser.parse_args()

    messages = [_message(i) for i in range(args.messages)]
    size = sum(len(m.payload) for m in messages) / len(messages)  # type: ignore[arg-type]
    print(f"{args.messages:,} messages of {size / 1024:.1f} KiB each")
    for pool in args.pool_sizes:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        ready, stop, usage = mp.Event(), mp.Event(), mp.Queue()
        sink = mp.Process(target=_sink, args=(port, ready, stop, usage), daemon=True)
        sink.start()
        ready.wait(30)
        with SmtpChannel("127.0.0.1", port, pool_size=pool, timeout=30) as channel:
            start = time.perf_counter()
            sent = 0
            for lo in range(0, len(messages), args.batch):
                results = channel.push(messages[lo : lo + args.batch])
                sent += sum(r.status == "sent" for r in results)
            elapsed = time.perf_counter() - start
            opened = channel.connections_opened
        stop.set()
        sink_cpu = usage.get(timeout=30)
        sink.join(10)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"pool_size={pool}: {sent:,} sent in {elapsed:.2f} s = "
            f"{sent / elapsed:,.0f} messages/s; "
            f"{opened} connections; client peak {peak:,.0f} MiB; "
            f"sink CPU {sink_cpu:.1f} s ({sink_cpu / elapsed:.0%} of one core)"
        )


if __name__ == "__main__":
    main()
