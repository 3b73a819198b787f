"""DKIM signing (RFC 6376), rsa-sha256 with relaxed/relaxed canonicalisation.

The private key is loaded once, with ``cryptography`` (OpenSSL), when the signer is built; a
2048-bit RSA signature then costs about 0.2 ms. The signed header list includes both
``List-Unsubscribe`` and ``List-Unsubscribe-Post``, as RFC 8058 §4 requires for one-click
unsubscribe; the headers in :data:`OVERSIGNED` are signed once more than they occur
(RFC 6376 §8.15), so a copy added in transit breaks the signature instead of being shown.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from streamwise.errors import ConfigError, DataError

__all__ = ["DEFAULT_HEADERS", "OVERSIGNED", "DkimSigner", "generate_key"]

#: Header fields signed when present (RFC 6376 §5.4.1 recommends these and more).
DEFAULT_HEADERS: tuple[str, ...] = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Feedback-ID",
)
#: Header fields signed one extra time, so that none can be added without breaking the signature.
OVERSIGNED: frozenset[str] = frozenset(
    {"from", "subject", "to", "list-unsubscribe", "list-unsubscribe-post", "list-id"}
)
_WSP = re.compile(rb"[ \t]+")
_FOLD = re.compile(rb"\r\n(?=[ \t])")
_BARE_LF = re.compile(rb"(?<!\r)\n")
_TRAILING_WSP = re.compile(rb"[ \t]+\r\n")


def generate_key(bits: int = 2048) -> tuple[bytes, str]:
    """A new RSA key pair for DKIM.

    Returns
    -------
    tuple[bytes, str]
        The private key (PKCS#8 PEM; keep it secret) and the DNS TXT record value to publish
        at ``<selector>._domainkey.<domain>``: ``v=DKIM1; k=rsa; p=<base64 public key>``.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, _txt_record(key.public_key())


def _txt_record(public: rsa.RSAPublicKey) -> str:
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode('ascii')}"


def _relaxed_header(name: bytes, value: bytes) -> bytes:
    """RFC 6376 §3.4.2: lower-case name, unfolded value, runs of blanks as one space."""
    value = _WSP.sub(b" ", _FOLD.sub(b"", value)).strip(b" ")
    return name.strip().lower() + b":" + value + b"\r\n"


def _relaxed_body(body: bytes) -> bytes:
    """RFC 6376 §3.4.4: blanks at line ends removed, runs of blanks as one space, no trailing
    empty lines; an empty body stays empty."""
    body = _TRAILING_WSP.sub(b"\r\n", _WSP.sub(b" ", body)).rstrip(b" \t\r\n")
    return body + b"\r\n" if body else b""


def _split(message: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Header fields as (name, value-with-folding) and the body, from a CRLF message."""
    head, sep, body = message.partition(b"\r\n\r\n")
    if not sep:
        head, body = message, b""
    fields: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + b"\r\n" + line)
        else:
            name, colon, value = line.partition(b":")
            if not colon:
                raise DataError("the message has a header line without ':'; it cannot be signed")
            fields.append((name, value))
    return fields, body


class DkimSigner:
    """Signs messages for one domain and selector.

    Parameters
    ----------
    selector
        The DNS selector: the public key is at ``<selector>._domainkey.<domain>``.
    domain
        The signing domain (``d=``); align it with the ``From`` domain for DMARC.
    private_key_pem
        The RSA private key, PEM (PKCS#1 or PKCS#8, unencrypted).
    headers
        Header fields to sign when present; must include both unsubscribe headers.
    """

    def __init__(
        self,
        selector: str,
        domain: str,
        private_key_pem: bytes | str,
        *,
        headers: Sequence[str] = DEFAULT_HEADERS,
    ) -> None:
        pem = private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise ConfigError(
                "the DKIM private key is not an unencrypted PEM RSA key; generate one with "
                "streamwise.downstream.dkim.generate_key() or openssl genrsa 2048"
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 1024:
            raise ConfigError("the DKIM key must be RSA of at least 1024 bits (2048 advised)")
        wanted = {h.lower() for h in headers}
        if not {"from", "list-unsubscribe", "list-unsubscribe-post"} <= wanted:
            raise ConfigError(
                "the DKIM header list must include From, List-Unsubscribe and "
                "List-Unsubscribe-Post (RFC 6376 §5.4, RFC 8058 §4)"
            )
        self.selector = selector
        self.domain = domain
        self.headers = tuple(headers)
        self._key = key
        self._padding = padding.PKCS1v15()
        self._hash = hashes.SHA256()

    def __repr__(self) -> str:
        return f"DkimSigner(selector={self.selector!r}, domain={self.domain!r})"

    @property
    def txt_record(self) -> str:
        """The DNS TXT record value for this signer's public key."""
        return _txt_record(self._key.public_key())

    def sign(self, message: bytes, *, timestamp: int | None = None) -> bytes:
        """The message with a ``DKIM-Signature`` header field prepended.

        Bare LF line endings are turned into CRLF first (the form the message travels in), so
        the returned bytes are the ones to send.
        """
        if b"\n" in message and _BARE_LF.search(message):
            message = _BARE_LF.sub(b"\r\n", message)
        fields, body = _split(message)
        body_hash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest()).decode()
        by_name: dict[bytes, list[bytes]] = {}
        for name, value in fields:
            by_name.setdefault(name.strip().lower(), []).append(value)
        signed_names: list[str] = []
        canon: list[bytes] = []
        for header in self.headers:
            values = by_name.get(header.lower().encode(), [])
            # RFC 6376 §5.4.2: several instances are signed from the bottom up.
            for value in reversed(values):
                canon.append(_relaxed_header(header.encode(), value))
                signed_names.append(header)
            if values and header.lower() in OVERSIGNED:
                signed_names.append(header)
        now = int(time.time()) if timestamp is None else timestamp
        tags = (
            f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={self.domain}; s={self.selector};\r\n"
            f"\tt={now}; h={_fold_list(signed_names)};\r\n\tbh={body_hash};\r\n\tb="
        )
        data = b"".join(canon) + _relaxed_header(b"dkim-signature", b" " + tags.encode())
        data = data[:-2]  # RFC 6376 §3.7: the signature header is hashed without its CRLF
        signature = base64.b64encode(self._key.sign(data, self._padding, self._hash)).decode()
        folded = "\r\n\t ".join(signature[i : i + 72] for i in range(0, len(signature), 72))
        return f"DKIM-Signature: {tags}{folded}\r\n".encode("ascii") + message


def _fold_list(names: list[str]) -> str:
    lines, line = [], ""
    for name in names:
        if line and len(line) + len(name) > 60:
            lines.append(line)
            line = ""
        line += (":" if line else "") + name
    lines.append(line)
    return ":\r\n\t".join(lines)
