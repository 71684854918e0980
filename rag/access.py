"""Who may get in: listening beyond loopback needs a credential.

``rag serve`` and ``rag ui`` listen on 127.0.0.1 by default. Asked to listen on any
other address (``--host 0.0.0.0``, a LAN address, a host name) they refuse unless a
credential is set — ``RAG_API_TOKEN`` for the API, ``RAG_UI_TOKEN`` for the app — or
``--insecure`` says the open door is wanted, which prints a warning.
"""

from __future__ import annotations

import ipaddress
import secrets
import sys

from rag.errors import ExposedError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str | None) -> bool:
    """True when ``host`` only listens on this machine.

    An empty host counts as every interface (what Streamlit and most servers do with
    it), and a host name other than ``localhost`` as the network, whatever it resolves
    to today.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if not host:
        return False
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_listen(host: str, *, credential: str | None, variable: str, insecure: bool) -> None:
    """Refuse to listen on a non-loopback ``host`` without ``credential``.

    Raises :class:`~rag.errors.ExposedError` (exit 2) naming ``variable`` and
    ``--insecure``; with ``insecure`` it only prints a warning to stderr.
    """
    if is_loopback(host) or credential:
        return
    if insecure:
        bar = "!" * 78
        print(
            f"{bar}\nWARNING: listening on {host} with no {variable}: anyone who can reach "
            f"this machine can read the articles, upload files and rebuild the index.\n{bar}",
            file=sys.stderr,
            flush=True,
        )
        return
    raise ExposedError(
        f"refusing to listen on {host} without {variable}: anyone on the network could "
        f"upload files and rebuild the index. Set {variable} to a secret (for example "
        f"`export {variable}={secrets.token_urlsafe(16)}`), listen on 127.0.0.1, or pass "
        "--insecure to serve without one"
    )


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret with the configured one."""
    if not given:
        return False
    return secrets.compare_digest(given.strip().encode(), expected.encode())
