"""tailwatch.claims: article text → claims → verdicts against a store.

* :func:`tailwatch.claims.extract.extract_claims` — the checkable claims of an article;
* :func:`tailwatch.claims.verify.verify_claims` — pure verdicts over Arrow tables (:class:`Evidence`);
* :func:`tailwatch.claims.gather.gather` — reads those tables from a store;
* :mod:`tailwatch.claims.render` — Markdown, JSON and HTML.

:func:`check_article` does all of it in one call (what ``tailwatch verify`` runs).
"""

from __future__ import annotations

from typing import Any

from tailwatch.claims.model import Claim, Verdict


def check_article(text: str, store: Any, identity: Any = None, year: int | None = None) -> list[tuple[Claim, Verdict]]:
    """Each claim of ``text`` with its verdict from ``store`` (a :class:`tailwatch.store.Store`).

    ``identity`` (a :class:`tailwatch.identity.Identity`, or None) ties registrations to
    addresses; ``year`` fills in dates written without one.
    """
    from tailwatch.claims.extract import extract_claims
    from tailwatch.claims.gather import gather
    from tailwatch.claims.verify import verify_claims

    claims = extract_claims(text, year=year)
    return list(zip(claims, verify_claims(claims, gather(store, claims, identity)), strict=True))


__all__ = ["Claim", "Verdict", "check_article"]
