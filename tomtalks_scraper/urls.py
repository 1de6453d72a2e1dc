"""URL helpers: one normal form per issue URL, and host checks for link following.

An issue reached through a feed, a sitemap and a shared link carries different query strings
(``utm_*``, ``ref``, LinkedIn's ``trk``); keying issues on the normal form keeps one row per issue.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

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

#: URL fragments of sign-in pages that sites redirect robots to instead of the issue.
AUTH_WALL_MARKERS = ("/authwall", "/uas/login", "/login?", "/signin?", "/checkpoint/")

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

    Never raises, and ``normalize_url(normalize_url(u)) == normalize_url(u)``: feeds and pages hand
    us any text as a link, and one broken link must not stop the listing it is in. Text that cannot
    be taken apart as a URL (``http://[oops/``, a port of ``99999``), or whose normal form would read
    differently a second time (control characters in the host), is its own normal form, stripped;
    ``is_fetchable`` keeps such text from ever being requested.
    """
    text = url.strip()
    normal = _normal_form(text)
    if normal is None or _normal_form(normal) != normal:
        return text
    return normal


def _normal_form(text: str) -> str | None:
    """One pass of normalisation; None when ``urlsplit`` cannot take ``text`` apart."""
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower() or "http"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = _MULTI_SLASH.sub("/", parts.path) or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), "")).strip()


def is_fetchable(url: str) -> bool:
    """Whether ``url`` is an http(s) URL with a host (and a valid port) that a request can be made for."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without ``user:password@``, and the (user, password) it carried (None when none).

    A password must travel in a header, never in a URL: URLs are logged and stored.
    """
    try:
        parts = urlsplit(url)
        user, password, host, port = parts.username, parts.password, parts.hostname, parts.port
    except ValueError:
        return url, None
    if user is None and password is None:
        return url, None
    netloc = (f"[{host}]" if host and ":" in host else host or "") + (f":{port}" if port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc)), (unquote(user or ""), unquote(password or ""))


def origin_of(url: str) -> str:
    """``scheme://host:port`` with the default port written out: what credentials are scoped to."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return ""
    return f"{scheme}://{host}:{port}"


def join_url(base: str, link: str) -> str:
    """``urljoin(base, link)``, or ``link`` as written when it cannot be read (``http://[oops/``).

    One malformed link in a feed or a page must not stop the others being read; the spider records
    the unusable one (``bad_url``) since ``is_fetchable`` refuses it.
    """
    try:
        return urljoin(base, link)
    except ValueError:
        return link


def is_sign_in_page(url: str) -> bool:
    """Whether ``url`` is a sign-in wall (LinkedIn's ``/authwall?…``, ``/uas/login``, …), not a page of content."""
    return any(marker in url for marker in AUTH_WALL_MARKERS)


def host_of(url: str) -> str:
    """The lower-cased host name of ``url`` without port ('' when there is none or it cannot be read)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # "http://[oops/": no host we could fetch from or compare with
        return ""


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
