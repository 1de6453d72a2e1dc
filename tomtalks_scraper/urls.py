"""URL helpers: one normal form per issue URL, and host checks for link following.

An issue reached through a feed, a sitemap and a shared link carries different query strings
(``utm_*``, ``ref``, LinkedIn's ``trk``); keying issues on the normal form keeps one row per issue.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameters that only track the reader; dropped from stored URLs.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_hsenc", "_hsmi",
        "mkt_tok", "ref", "ref_src", "ref_url", "s", "r", "trk", "trkinfo", "lipi",
        "publication_id", "post_id", "isfreemail", "triedredirect", "triedRedirect", "showWelcomeOnShare",
        "sd", "__s", "vero_id", "oly_enc_id", "oly_anon_id", "rss", "trackingid", "_gl", "_ga",
    }
)
TRACKING_PREFIXES = ("utm_", "trk_", "mc_", "hsa_", "pk_", "mtm_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_MULTI_SLASH = re.compile(r"/{2,}")


def is_tracking_param(name: str) -> bool:
    """True for query parameters that identify the reader or campaign, not the page."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """Return the normal form of ``url`` used as an issue's identity.

    Lower-cases scheme and host, drops default ports, fragments and tracking parameters, sorts
    the remaining query, and collapses repeated slashes. The path's case and trailing slash are
    kept: many servers treat them as different pages.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower()
    port = parts.port
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = _MULTI_SLASH.sub("/", parts.path) or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def host_of(url: str) -> str:
    """The lower-cased host name of ``url`` without port ('' when there is none)."""
    return (urlsplit(url).hostname or "").lower()


def same_site(host: str, allowed: set[str]) -> bool:
    """True when ``host`` is one of ``allowed`` or a subdomain of one (www. is not significant)."""
    bare = host.removeprefix("www.")
    return any(bare == a.removeprefix("www.") or bare.endswith("." + a.removeprefix("www.")) for a in allowed)


def unwrap_query_redirect(url: str, parameter: str) -> str:
    """The URL carried in ``parameter`` of a click-tracking redirect, or ``url`` when it has none."""
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name == parameter and value.startswith(("http://", "https://")):
            return value
    return url


def clean_link(url: str) -> str:
    """A body link as stored: tracking parameters and fragments-only changes dropped, otherwise as written."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
