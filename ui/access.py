"""Who may use the app: the access token (``RAG_UI_TOKEN``) and the address it listens on.

With a token set, every page first asks for it, so nothing — reading, uploads, index
updates, rebuilds — happens for a browser that has not given it. Without one, the app
serves only on a loopback address; on any other (Streamlit's default, no address, is
every interface) it refuses, unless ``RAG_UI_INSECURE`` (``rag ui --insecure``) says
the open door is wanted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import streamlit as st

from rag.access import is_loopback, token_matches
from rag.settings import Settings

SIGNED_IN = "rag_signed_in"


def _fingerprint(token: str) -> str:
    # A new token signs everyone out; the token itself is never kept in the session.
    return hashlib.sha256(token.encode()).hexdigest()


def address() -> str:
    """The address this server listens on ("" = every interface)."""
    return str(st.get_option("server.address") or "")


def blocked(settings: Settings) -> Callable[[], None] | None:
    """None when this browser session may use the app; else the only page it may see:
    the access token's form, or why the app will not serve this address.

    The app then registers that page alone, so no other page's URL leads anywhere.
    """
    token = settings.ui_token
    if token:
        if st.session_state.get(SIGNED_IN) == _fingerprint(token):
            return None
        return lambda: sign_in(token)
    where = address()
    if is_loopback(where):
        return None
    shown = where or "every interface"
    if settings.ui_insecure:
        st.sidebar.warning(f"Open to the network ({shown}) with no access token.")
        return None
    return lambda: refuse(shown)


def sign_in(token: str) -> None:
    st.title("newsdesk")
    with st.form("rag_sign_in"):
        given = st.text_input(
            "Access token",
            type="password",
            key="rag_access_token",
            help="The RAG_UI_TOKEN this app was started with.",
        )
        submitted = st.form_submit_button("Open the app", type="primary")
    if submitted:
        if token_matches(given, token):
            st.session_state[SIGNED_IN] = _fingerprint(token)
            st.rerun()
        st.error("That is not the access token. Ask whoever started the app for it.")


def refuse(shown: str) -> None:
    st.title("newsdesk")
    st.error(
        f"This app listens on {shown} with no access token, so anyone on the network could "
        "upload files and rebuild the index. Set RAG_UI_TOKEN and restart it, serve it on "
        "127.0.0.1, or start it with `rag ui --insecure`."
    )
