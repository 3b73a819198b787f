"""Render + build + DKIM-sign 10,000 personalised messages (issue 6 goal: ≥ 1,000 messages/s
on 2 cores). No peer here: the send benchmark with a peer comes with the delivery pipeline.

Each message: a sandboxed Jinja2 template compiled once (CSS inlined once), per-recipient
context, signed unsubscribe, open and click tokens, links rewritten, open pixel, RFC 5322 bytes,
rsa-sha256 relaxed/relaxed DKIM signature with a 2048-bit key loaded once.

    .venv/bin/python benchmarks/render_sign.py [--messages 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

from streamwise.downstream.dkim import DkimSigner, generate_key
from streamwise.downstream.message import build_email, message_id
from streamwise.downstream.render import EmailTemplate, render
from streamwise.downstream.tracking import (
    add_open_pixel,
    open_pixel,
    rewrite_links,
    sign_token,
    tracking_url,
)

SECRET = "benchmark-secret-0123456789abcdef"
TRACK = "https://t.example.com"
HTML = """<!doctype html><html><head><style>
body { font-family: Helvetica, Arial, sans-serif; color: #222 } h1 { font-size: 24px }
p { line-height: 1.5; margin: 0 0 12px } a.btn { background: #0a6; color: #fff; padding: 8px }
td.name { font-weight: bold } .vip { color: #a60 }</style></head><body>
<h1>Spring is here, {{ first_name }}!</h1>
<p>As a {{ segment }} customer{% if persona %} like {{ persona }}{% endif %},
you will love these.</p>
{% if clv > 500 %}<p class="vip">Thank you for being one of our best customers.</p>{% endif %}
<table>{% for item in products %}<tr><td class="name">{{ item.name }}</td>
<td>{{ "%.2f" | format(item.price) }} EUR</td>
<td><a href="https://shop.example.com/p/{{ item.sku }}?utm_campaign=spring">View</a></td></tr>
{% endfor %}</table>
<p><a class="btn" href="https://shop.example.com/spring?s={{ segment }}">Shop the sale</a></p>
<p>Questions? <a href="mailto:help@example.com">help@example.com</a></p>
</body></html>"""
PRODUCTS = [
    {"name": "Trail tent 2P", "price": 249.0, "sku": "T2P"},
    {"name": "Camp stove", "price": 59.9, "sku": "CST"},
    {"name": "Sleeping bag −5 °C", "price": 129.0, "sku": "SB5"},
]


def _work(args: tuple[int, int, bytes]) -> tuple[int, int]:
    start, count, pem = args
    template = EmailTemplate(
        subject="{{ first_name }}, spring deals for {{ segment }}", html=HTML,
        postal_address="Streamwise Outdoor, 1 Main Street, Springfield 12345",
        organisation="Streamwise Outdoor",
    )  # fmt: skip
    signer = DkimSigner("s2026", "example.com", pem)
    size = 0
    for i in range(start, start + count):
        rid = f"c{i:07d}"
        common = {"campaign_id": "spring", "recipient_id": rid, "variant": "B"}
        unsub = tracking_url(f"{TRACK}/u", sign_token(SECRET, kind="unsubscribe", **common))
        context = {
            "first_name": ("Jane", "Jörg", "Ana", "Li")[i % 4], "email": f"{rid}@example.org",
            "segment": ("campers", "hikers")[i % 2], "persona": ("Wendy", "")[i % 2],
            "clv": float(i % 1000), "products": PRODUCTS, "unsubscribe_url": unsub,
        }  # fmt: skip
        rendered = render(template, context)
        html = rewrite_links(
            rendered.html,
            lambda url, c=common: tracking_url(
                f"{TRACK}/c", sign_token(SECRET, kind="click", url=url, **c)
            ),
            skip={unsub},
        )
        html = add_open_pixel(
            html, open_pixel(f"{TRACK}/o", sign_token(SECRET, kind="open", **common))
        )
        raw = build_email(
            type(rendered)(rendered.subject, html, rendered.text),
            sender="Streamwise Outdoor <news@example.com>", recipient=context["email"],
            message_id=message_id("spring", rid, "example.com"),
            list_id="Spring news <spring.example.com>", unsubscribe_url=unsub,
        )  # fmt: skip
        size += len(signer.sign(raw))
    return count, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    pem, _ = generate_key()
    n, w = args.messages, args.workers
    t0 = time.perf_counter()
    _work((0, min(n, 2_000), pem))
    one = min(n, 2_000) / (time.perf_counter() - t0)
    print(f"1 process : {one:8.0f} messages/s (2,000 messages, compile included)")
    chunks = [(k * (n // w), n // w + (n % w if k == w - 1 else 0), pem) for k in range(w)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(w) as pool:
        done = list(pool.map(_work, chunks))
    elapsed = time.perf_counter() - t0
    count = sum(c for c, _ in done)
    size = sum(s for _, s in done) / count
    print(f"{w} processes: {count / elapsed:8.0f} messages/s ({count:,} messages in "
          f"{elapsed:.2f} s, pool start included; {size / 1024:.1f} KiB per message)")  # fmt: skip
    print("goal: >= 1,000 messages/s on 2 cores")


if __name__ == "__main__":
    main()
