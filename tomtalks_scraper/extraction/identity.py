"""One stable key per issue, whatever URL served it, and the URLs that are aliases of it.

A newsletter issue is reachable under many URLs: a custom domain and ``*.substack.com``, AMP
versions, ``www.`` or not, tracking parameters, click-tracking wrappers. The key is the platform's
own id where it has one (Medium's 12-hex post id, Substack's post id from ``_preloads``, LinkedIn's
article URN), else the normalised canonical URL when the page's canonical can be trusted, else the
normalised URL itself.

A platform id is only read from a page the platform's adapter recognised (by URL or ``<head>``
markers): a farm pastes LinkedIn's body markup, URNs included, and must not take the original's
identity. A canonical URL on another site is not trusted either, for the same reason: it points to
the original, it does not make this page the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lxml import html as lxml_html

from tomtalks_scraper.urls import host_of, normalize_url, same_site

#: Query parameters that only select the AMP rendering.
_AMP_PARAMS = {"amp", "output", "outputtype", "amp_js_v", "usqp"}
_AMP_PATH = re.compile(r"/amp/?$")
_AMP_CACHE = re.compile(r"^/(?:c|v)/(?:s/)?(.+)$")
_LINKEDIN_URN = re.compile(r"urn:li:(?:linkedInArticle|article):(\d+)")
_PLATFORM_DOMAINS = {"linkedin": ("linkedin.com",), "substack": ("substack.com",), "medium": ("medium.com",)}


@dataclass
class Identity:
    """The issue's key and every URL the page says it answers to, with how we know (``kind``)."""

    key: str
    aliases: list[tuple[str, str]] = field(default_factory=list)  # (normalised URL, kind)


def unwrap(url: str) -> str:
    """The real target of a click-tracking wrapper or an AMP cache URL (else ``url``)."""
    url = url.strip()
    if "?" in url:  # every click-tracking wrapper carries its target in the query
        from tomtalks_scraper.extraction.issue import unwrap_any  # the platforms' wrappers; late: import cycle

        url = unwrap_any(url)
    parts = urlsplit(url)
    if (parts.hostname or "").endswith(".cdn.ampproject.org") and (match := _AMP_CACHE.match(parts.path)):
        url = "https://" + match.group(1) + (f"?{parts.query}" if parts.query else "")
    return url


def alias_url(url: str) -> str:
    """An alias as stored: unwrapped, tracking parameters dropped, normal form (``urls.normalize_url``)."""
    return normalize_url(unwrap(url))


def url_key(url: str) -> str:
    """The key of an issue known only by its URL: host without ``www.``, no scheme, no AMP suffix or
    parameter, no trailing slash, tracking parameters dropped (``url:example.com/p/slug``)."""
    parts = urlsplit(alias_url(url))
    host = (parts.netloc or "").removeprefix("www.").removeprefix("amp.")
    path = _AMP_PATH.sub("", parts.path).rstrip("/") or "/"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() not in _AMP_PARAMS])
    return "url:" + urlunsplit(("", host, path, query, "")).removeprefix("//")


def _medium_id(url: str, tree: lxml_html.HtmlElement | None) -> str | None:
    from tomtalks_scraper.platforms.medium import post_id

    if found := post_id(url):
        return found
    if tree is None:
        return None
    for value in tree.xpath('//meta[@name="parsely-post-id"]/@content | //link[@rel="alternate"]/@href'):
        match = re.search(r"(?:^|/p/)([0-9a-f]{12})$", value.strip())
        if match:
            return match.group(1)
    return None


def platform_id(url: str, platform: str, tree: lxml_html.HtmlElement | None, raw_html: str | None) -> str | None:
    """The platform's own id for the issue (``medium:…``, ``substack:…``, ``linkedin:article:…``), or ``None``."""
    if platform == "medium":
        found = _medium_id(url, tree)
        return f"medium:{found}" if found else None
    if platform == "substack" and tree is not None:
        from tomtalks_scraper.platforms.substack import read_preloads

        post = (read_preloads(tree) or {}).get("post")
        if isinstance(post, dict) and isinstance(post.get("id"), int | str) and str(post["id"]).isdigit():
            return f"substack:{post['id']}"
        return None
    if platform == "linkedin" and raw_html and (match := _LINKEDIN_URN.search(raw_html)):
        return f"linkedin:article:{match.group(1)}"
    return None


def trusted_canonical(url: str, canonical: str | None, platform: str) -> bool:
    """A canonical URL we may key the issue on: on the page's own site, or on its platform's domain
    (a LinkedIn page at ``de.linkedin.com`` naming ``www.linkedin.com``)."""
    if not canonical or not canonical.startswith(("http://", "https://")):
        return False
    host, target = host_of(url), host_of(canonical)
    if not target:
        return False
    if same_site(target, {host}) or same_site(host, {target}):
        return True
    return same_site(target, set(_PLATFORM_DOMAINS.get(platform, ())))


def identify(
    url: str, canonical_url: str | None, platform: str, raw_html: str | None = None,
    tree: lxml_html.HtmlElement | None = None,
) -> Identity:
    """The issue's key and aliases, from what the page declares (``tree``, parsed ``raw_html``)."""
    aliases = [(alias_url(url), "fetched")]
    declared: list[tuple[str, str]] = []
    if canonical_url:
        declared.append((canonical_url, "canonical"))
    if tree is not None:
        declared += [(v, "og:url") for v in tree.xpath('//meta[@property="og:url"]/@content')[:1]]
        declared += [(v, "amp") for v in tree.xpath('//link[@rel="amphtml"]/@href')[:1]]
    for target, kind in declared:
        if trusted_canonical(url, target.strip(), platform):
            aliases.append((alias_url(target), kind))
    trusted = canonical_url if trusted_canonical(url, canonical_url, platform) else None
    key = platform_id(url, platform, tree, raw_html) or url_key(trusted or url)
    unique: dict[str, str] = {}
    for alias, kind in aliases:
        unique.setdefault(alias, kind)
    return Identity(key, list(unique.items()))
