"""Benchmark: a whole campaign send — ledger, rendering, CSS inlining, click/open tracking, DKIM
signing and SMTP delivery — to a local SMTP sink, on 2 cores (issue 6 goal: ≥ 1,000 messages/s
sustained for 100k recipients, bounded memory).

The peer figure cannot be measured here (listmonk is a Go server not in the package registries);
its maintainer reports ~830 messages/s on one SMTP server, printed for reference and marked as
reported, not measured. The sink (aiosmtpd) runs in its own process.

    .venv/bin/python benchmarks/send.py [--recipients 100000] [--pool-size 4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smtp_sink import _sink
from streamwise.downstream.campaigns.ledger import Enrolment, counts, enrol
from streamwise.downstream.campaigns.service import create_campaign, run_send
from streamwise.downstream.dkim import generate_key
from streamwise.downstream.message import message_id
from streamwise.workspace import Workspace

LISTMONK_REPORTED = 830.0

HTML = """<html><head><style>p { font-family: Arial; color: #222 } .cta { color: #fff;
background: #0b6e4f; padding: 8px }</style></head><body><p>Hi {{ first_name }},</p>
<p>Your {{ segment }} picks for this weekend are in.</p>
<p><a class="cta" href="https://shop.example/new">New arrivals</a>
<a href="https://shop.example/sale">Sale</a></p></body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--pool-size", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=1_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sw-bench-send-"))
    pem, _ = generate_key()
    (work / "dkim.pem").write_bytes(pem)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ready, stop, usage = mp.Event(), mp.Event(), mp.Queue()
    sink = mp.Process(target=_sink, args=(port, ready, stop, usage))
    sink.start()
    ready.wait(30)
    ws = Workspace.init(work / "ws", company="Bench", brand="Bench")
    settings = {
        "sender": {"address": "news@shop.example", "domain": "shop.example",
                   "list_id": "News <news.shop.example>",
                   "postal_address": "1 Main Street, Springfield, USA"},
        "variants": {"A": {"subject": "Hi {{ first_name }}", "html": HTML},
                     "B": {"subject": "{{ first_name }}, new for you", "html": HTML}},
        "holdout": 0.0,
        "tracking_base_url": "https://t.shop.example",
        "utm": {"source": "bench", "medium": "email"},
        "channel": {"host": "127.0.0.1", "port": port, "pool_size": args.pool_size,
                    "starttls": False},
        "dkim": {"selector": "s1", "domain": "shop.example", "key_file": str(work / "dkim.pem")},
        "batch_size": args.batch_size,
    }  # fmt: skip
    cid = create_campaign(ws, "bench", audience="email_consent", settings=settings)
    rows = (
        Enrolment(customer_id=f"C{i:07d}", address=f"c{i}@example.com", arm="AB"[i % 2],
                  message_id=message_id(str(cid), f"C{i:07d}", "shop.example"), send_after=None,
                  context={"first_name": f"Name{i}", "segment": "Weekend Campers"})
        for i in range(args.recipients)
    )  # fmt: skip
    t = time.perf_counter()
    enrol(ws.operational(), cid, rows)
    enrolled = time.perf_counter() - t
    t = time.perf_counter()
    report = run_send(ws, "bench")
    seconds = time.perf_counter() - t
    stop.set()
    sink.join()
    sink_cpu = usage.get()
    sent = counts(ws.operational(), cid).get("sent", 0)
    ws.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = sent / seconds
    print(f"campaign send, {args.recipients:,} recipients, pool {args.pool_size}, "
          f"batch {args.batch_size} (enrolment {enrolled:.1f} s)")  # fmt: skip
    print(f"  streamwise  {seconds:8.1f} s  {rate:8,.0f} messages/s  peak {peak:,.0f} MiB  "
          f"state {report.state}, sent {sent:,}")  # fmt: skip
    print(f"  sink CPU    {sink_cpu:8.1f} s  ({sink_cpu / seconds:.0%} of one core)")
    print(f"  listmonk    {'':8}    {LISTMONK_REPORTED:8,.0f} messages/s  (reported, not measured)")
    print(f"  ratio {rate / LISTMONK_REPORTED:.2f}x   goal >= 1,000 messages/s: "
          f"{'met' if rate >= 1000 else 'not met'}")  # fmt: skip


if __name__ == "__main__":
    main()
