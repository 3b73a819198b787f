"""Personal fields (e-mail addresses, IP addresses) kept, hashed or dropped, as configured."""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

__all__ = ["PiiPolicy", "Scrubber"]

PiiPolicy = Literal["keep", "hash", "drop"]


class Scrubber:
    """Applies the workspace's ``pii`` setting to one value at a time.

    ``hash`` is HMAC-SHA256 keyed with the workspace secret (truncated to 128 bits, hex), so
    equal values still match each other but cannot be looked up in a table of hashed addresses.

    Parameters
    ----------
    policy
        ``"keep"``, ``"hash"`` or ``"drop"``.
    secret
        The workspace's secret key.
    """

    def __init__(self, policy: PiiPolicy, secret: str | bytes) -> None:
        self.policy = policy
        self.key = b"streamwise-pii-v1." + (secret.encode() if isinstance(secret, str) else secret)

    def __call__(self, value: str | None) -> str | None:
        """The value as the policy wants it stored (``None`` stays ``None``)."""
        if value is None or self.policy == "keep":
            return value
        if self.policy == "drop":
            return None
        digest = hmac.new(self.key, value.strip().lower().encode(), hashlib.sha256)
        return "h:" + digest.hexdigest()[:32]
