"""Is this page a content-farm copy of someone's issue? Signals read from the raw page, scored.

``../shared/docs/platforms.md`` §11: farms scrape a newsletter's rendered page (LinkedIn's
"Recommended by LinkedIn" widget comes along), paste it into a generic theme, and append their own
junk: lists of unrelated links, a made-up "Author information" block, an SEO year in the title. No
single signal is decisive (a blog may quote "Recommended by LinkedIn", may lack a canonical link,
may link to the author's LinkedIn newsletter), so each has a weight and a page is a copy when the
weights add up to ``COPY_THRESHOLD``; no weight reaches it alone.

A platform's own page (its adapter recognised it by URL or by ``<head>`` markers, which farms never
copy) is never scored for that platform's chrome: LinkedIn's page carries LinkedIn's widget.

Pure functions of (page, URL, what extraction found); the archive calls them when it stores an issue
(``storage.works``), and they also say what a copy's own author claims are worth: nothing. The author
comes from the article's own signature ("Hosted by … Tom Popomaronis") or from the original.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from lxml import etree
from lxml import html as lxml_html

from tomtalks_scraper.extraction.markup import parse_page_text
from tomtalks_scraper.extraction.metadata import clean_text
from tomtalks_scraper.platforms.page_names import PageNames
from tomtalks_scraper.urls import host_of, same_site

COPY_THRESHOLD = 3.0
#: A list of links after the article this long is a farm's, not a blog's "Related posts".
LONG_LINK_LIST = 10

#: Platform → (its domains, UI strings its pages show, image hosts, tracking-link patterns).
PLATFORM_UI: dict[str, tuple[str, ...]] = {
    "linkedin": ("Recommended by LinkedIn", "Others also viewed", "Report this article",
                 "To view or add a comment, sign in", "Like · Comment · Share", "Explore topics",
                 "More articles by"),
    "substack": ("Subscribe for free to receive new posts and support my work", "is a reader-supported publication",
                 "Ready for more?", "Discover more from"),
    "medium": ("Member-only story", "member-only story", "Written by", "Get the Medium app"),
}
PLATFORM_DOMAINS: dict[str, tuple[str, ...]] = {
    "linkedin": ("linkedin.com", "licdn.com"),
    "substack": ("substack.com", "substackcdn.com"),
    "medium": ("medium.com",),
}
_IMAGE_HOSTS = {"media.licdn.com": "linkedin", "substackcdn.com": "substack",
                "substack-post-media.s3.amazonaws.com": "substack", "miro.medium.com": "medium"}
_TRACKING_LINK = re.compile(
    r"[?&]trk=(?:article-ssr-frontend-pulse|pulse-article)|linkedin\.com/redir/redirect|substack\.com/redirect/", re.I)
_PASTED_MARKUP = ('[data-test-id="publishing-text-block"]', ".article-main__content", ".available-content .body.markup")
_LINK_LIST_HEADING = re.compile(
    r"^(?:top articles|latest posts|related posts|recent posts|popular posts|trending(?: posts| now)?|"
    r"you may also like|read more|more from|more articles)\b", re.I)
_SPAM_FIELDS = re.compile(
    r"^(?:Author|Name|Birthday|Address|Phone|Job|Hobby|Introduction|Views|Rating|Reviews|Last Updated):", re.I)
_SPAM_HEADING = re.compile(r"^(?:Article information|Author information|About the author)$", re.I)
_SEO_TITLE = re.compile(r"\((?:19|20)\d\d\)|\b(?:19|20)\d\d\b.*\b(?:19|20)\d\d\b|\|.*\|.*\|")
#: A person's name: two or three capitalised words (letters, apostrophes, hyphens).
_NAME = r"[A-Z][\w'’-]+(?:[ \t]+[A-Z][\w'’-]*){1,2}"
_SIGNATURES = (
    # "Hosted by award-winning innovation expert Tom Popomaronis." — lowercase descriptors are skipped.
    re.compile(r"\b(?i:hosted|written|authored|curated|edited|presented|created)\s+by\s+"
               r"(?:(?:[a-z][\w&'’-]*|[A-Z][\w'’]*-[a-z][\w-]*)\s+){0,6}?(" + _NAME + r")\b"),
    re.compile(r"^\s*(?:—|–|--|~)\s*(" + _NAME + r")\s*$", re.M),
    re.compile(r"^\s*(?:Best|Cheers|Thanks|Regards|Warmly|Yours),?\s*\n\s*(" + _NAME + r")\s*$", re.M),
)
_ARTICLE_LINK = re.compile(
    r"^https?://(?:[\w-]+\.)?linkedin\.com/pulse/[^/?#]+|^https?://[\w-]+\.substack\.com/p/[^/?#]+|"
    r"^https?://(?:[\w-]+\.)?medium\.com/.+-[0-9a-f]{12}$", re.I)
_HOME_LINK = re.compile(
    r"^https?://(?:[\w-]+\.)?linkedin\.com/(?:newsletters|in|today/author)/[^/?#]+|^https?://[\w-]+\.substack\.com/?$",
    re.I)


@dataclass(frozen=True)
class Signal:
    """One reason to think a page is a copy: a short name, its weight, and what was seen."""

    name: str
    weight: float
    detail: str


@dataclass
class CopyEvidence:
    """What a page says about being a copy, and where its original may be."""

    signals: list[Signal] = field(default_factory=list)
    likely_original_url: str | None = None
    signature_author: str | None = None

    @property
    def score(self) -> float:
        return round(sum(signal.weight for signal in self.signals), 2)

    @property
    def is_copy(self) -> bool:
        return self.score >= COPY_THRESHOLD

    @property
    def reasons(self) -> list[str]:
        return [f"{signal.name}: {signal.detail}" for signal in self.signals]


def _platform_of_host(host: str) -> str | None:
    for platform, domains in PLATFORM_DOMAINS.items():
        if same_site(host, set(domains)):
            return platform
    return None


def _visible_text(tree: lxml_html.HtmlElement) -> str:
    """The page's text as written (whitespace not folded: ``_ui_phrase`` patterns match any run of it)."""
    body = tree.find("body")
    return (body if body is not None else tree).text_content()


@cache
def _ui_phrase(phrase: str) -> re.Pattern[str]:
    """``phrase`` with each space matching a run of whitespace: a search of the page's text finds it
    exactly where ``phrase in " ".join(text.split())`` would (``\\s`` is ``str.split``'s whitespace),
    without building the folded copy of a 100 KB text."""
    return re.compile(r"\s+".join(map(re.escape, phrase.split(" "))))


def _block_lines(element: lxml_html.HtmlElement) -> list[str]:
    lines = [clean_text(e.text_content()) for e in element.iter("p", "li", "dt", "dd", "div", "span", "h2", "h3", "h4")
             if len(e) == 0 or e.tag in ("p", "li")]
    return [line for line in lines if line]


def _foreign_ui(text: str, page_platform: str, host: str) -> list[Signal]:
    found = []
    for platform, strings in PLATFORM_UI.items():
        if platform == page_platform or _platform_of_host(host) == platform:
            continue
        seen = [s for s in strings if _ui_phrase(s).search(text)]
        if seen:
            found.append(Signal("foreign_platform_ui", 2.0, f"{platform} page text on {host}: {', '.join(seen[:3])}"))
    return found[:1]


def _canonical(tree: lxml_html.HtmlElement, url: str, page_platform: str) -> tuple[list[Signal], str | None]:
    """A missing canonical link, or one (or ``og:url``, JSON-LD ``url``) naming another site."""
    host = host_of(url)
    # One walk for the three kinds of element (three ``//`` searches took ~0.25 ms on a large page).
    canonical: str | None = None  # the first <link rel=canonical href>'s, even when blank
    og_urls, scripts = [], []
    for element in tree.getroottree().getroot().iter("link", "meta", "script"):
        if element.tag == "link":
            if canonical is None and element.get("rel") == "canonical" and element.get("href") is not None:
                canonical = element.get("href").strip()
        elif element.tag == "meta":
            if element.get("property") == "og:url" and element.get("content") is not None:
                og_urls.append(("og:url", element.get("content").strip()))
        elif element.get("type") == "application/ld+json":
            scripts.append(element)
    declared = [("canonical", canonical)] if canonical else []
    declared += og_urls
    for script in scripts:
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                declared.append(("JSON-LD url", item["url"]))
    if not canonical:
        signals = [Signal("canonical_missing", 0.5, "no <link rel=canonical>")]
    else:
        signals = []
    for label, target in declared:
        target_host = host_of(target)
        if not target_host or same_site(target_host, {host}):
            continue
        if page_platform != "generic" and _platform_of_host(target_host) == page_platform:
            continue  # a platform page served under another name (a country subdomain, a test server)
        signals.append(Signal("canonical_elsewhere", 1.5, f"{label} points to {target}"))
        return signals, target
    return signals, None


def _link_lists(tree: lxml_html.HtmlElement) -> list[Signal]:
    """Headings such as "Top Articles" followed by a list of links. A blog's own "Related posts" has a
    few; a farm's list has dozens of unrelated titles, which is what weighs."""
    found, most = [], 0
    for heading in _link_list_headings(tree):
        text = clean_text(heading.text_content()) or ""
        if not _LINK_LIST_HEADING.match(text) or len(text) > 40:
            continue
        block = heading.getparent()
        links = block.xpath(".//a[@href]") if block is not None else []
        if len(links) >= 3:
            found.append(f"{text!r} ({len(links)} links)")
            most = max(most, len(links))
    if not found:
        return []
    return [Signal("appended_link_list", 1.5 if most >= LONG_LINK_LIST else 0.5, "; ".join(found[:3]))]


def _link_list_headings(tree: lxml_html.HtmlElement) -> Iterator[lxml_html.HtmlElement]:
    """``//h2|//h3|//h4|//p[strong]|//div[not(*)]``, in document order, in one walk of the page (the
    five searches cost ~0.3 ms on a large page)."""
    for element in tree.getroottree().getroot().iter("h2", "h3", "h4", "p", "div"):
        if element.tag == "p":
            if element.find("strong") is not None:
                yield element
        elif element.tag != "div" or next(element.iterchildren(etree.Element), None) is None:
            yield element


def _spam_author_block(tree: lxml_html.HtmlElement, text: str) -> list[Signal]:
    """The farm's "Article information / Author information" block: Birthday, Address, Phone, Hobby…

    Found from its heading's text (one XPath over text nodes), then read in the enclosing block: walking
    every ``div`` of a large page and its descendants cost more than everything else here together.
    ``text``: the page's text (``_visible_text``); without either heading word in it (two pages in three
    of the benchmark's), no text node holds one, and the XPath is not run.
    """
    if "information" not in text and "About the author" not in text:
        return []
    for node in tree.xpath("//body//text()[contains(., 'information') or contains(., 'About the author')]"):
        heading = node.getparent()
        if heading is None or not _SPAM_HEADING.match(clean_text(heading.text_content()) or ""):
            continue
        block = heading.getparent()
        while block is not None and block.tag not in ("section", "div", "aside", "article", "body"):
            block = block.getparent()
        if block is None or block.tag == "body":
            continue
        fields = {match.group(0).lower() for line in _block_lines(block) if (match := _SPAM_FIELDS.match(line))}
        if len(fields) >= 3:
            return [Signal("spam_author_block", 2.0, f"'Author information' block with {', '.join(sorted(fields))}")]
    return []


def _hotlinked_images(tree: lxml_html.HtmlElement, page_platform: str, host: str) -> list[Signal]:
    for image in tree.xpath("//body//img"):
        src = image.get("src") or image.get("data-src") or image.get("data-delayed-url") or ""
        image_host = host_of(src)
        for known, platform in _IMAGE_HOSTS.items():
            if image_host.endswith(known) and platform != page_platform and _platform_of_host(host) != platform:
                return [Signal("hotlinked_platform_image", 1.0, f"{platform} image {src[:80]}")]
    return []


def _tracking_links(tree: lxml_html.HtmlElement, page_platform: str) -> list[Signal]:
    if page_platform in ("linkedin", "substack"):
        return []
    links = (a.get("href") for body in tree.getroottree().getroot().iter("body") for a in body.iter("a"))
    for href in links:  # ``//body//a/@href`` (a walk of the page costs about as much as the search)
        if href is not None and _TRACKING_LINK.search(href):
            return [Signal("platform_tracking_link", 1.0, f"a platform's tracked link: {href[:80]}")]
    return []


def _pasted_markup(tree: lxml_html.HtmlElement, page_platform: str, names: PageNames | None) -> list[Signal]:
    """A platform's body markup in a generic page. ``names``: the page's ids and classes, which tell
    without a walk of the page that most selectors cannot match (``platforms.page_names``)."""
    if page_platform != "generic":
        return []
    from tomtalks_scraper.platforms.base import css

    for selector in _PASTED_MARKUP:
        if (names is None or names.may_match(selector)) and css(selector)(tree):
            return [Signal("pasted_platform_markup", 1.0, f"a platform's body markup ({selector}) in a generic page")]
    return []


def _seo_title(tree: lxml_html.HtmlElement) -> list[Signal]:
    title = clean_text(tree.xpath("string(//title[1])")) or ""
    if _SEO_TITLE.search(title):
        return [Signal("seo_title", 0.5, f"title decorated for search engines: {title[:80]!r}")]
    return []


def signature_author(body_text: str) -> str | None:
    """The author as the article signs itself ("Hosted by … Tom Popomaronis", a closing "— Name"),
    read from its last paragraphs; ``None`` when it does not sign."""
    tail = "\n".join(body_text.strip().splitlines()[-6:])
    for pattern in _SIGNATURES:
        matches = pattern.findall(tail)
        if matches:
            return clean_text(matches[-1])
    return None


def _author_mismatch(claimed: str | None, body_text: str, signed: str | None) -> list[Signal]:
    """The page's declared author is nowhere in the article, which is signed by someone else."""
    if not claimed or not signed:
        return []
    surnames = [name.split()[-1] for name in claimed.split(", ") if name.split()]
    if any(surname in body_text for surname in surnames) or signed.split()[-1] in claimed:
        return []
    return [Signal("author_mismatch", 1.0, f"the page claims {claimed!r}; the article is signed by {signed!r}")]


def _platform_links(links: list[str], page_platform: str, host: str) -> tuple[list[Signal], str | None]:
    """Links of the article body to an article or newsletter on a platform the page is not on: where the
    original may be ("Welcome to TomTalks" linking to linkedin.com/newsletters/…)."""
    articles, homes = [], []
    for target in links:
        platform = _platform_of_host(host_of(target))
        if not platform or platform == page_platform or _platform_of_host(host) == platform:
            continue
        if _ARTICLE_LINK.match(target):
            articles.append(target)
        elif _HOME_LINK.match(target):
            homes.append(target)
    likely = (articles or homes or [None])[0]
    if likely is None:
        return [], None
    return [Signal("links_to_platform_original", 0.5, f"links to {likely}")], likely


@dataclass(frozen=True)
class PageSignals:
    """The signals read from the page's markup alone, before extraction has found the body.

    A crawl's extraction worker reads them from the tree it parsed for extraction, before pre-cleaning
    changes it, so the page is not parsed a second time for the copy checks (about 1 ms a page).
    """

    signals: list[Signal]
    elsewhere: str | None  # the original a canonical link on another site names


def page_signals(tree: lxml_html.HtmlElement, url: str, platform: str, names: PageNames | None = None) -> PageSignals:
    """Everything ``copy_evidence`` reads from the raw page itself (``tree``, unchanged by pre-cleaning).
    ``names``: the ids and classes of ``tree``, when the caller has read them."""
    host = host_of(url)
    canonical_signals, elsewhere = _canonical(tree, url, platform)
    if platform != "generic":
        # A platform's own page: its chrome is its own; only a canonical naming another site makes it
        # someone else's copy (a cross-post), which one signal never makes a farm's.
        return PageSignals([s for s in canonical_signals if s.name == "canonical_elsewhere"], elsewhere)
    signals = canonical_signals
    text = _visible_text(tree)
    signals += _foreign_ui(text, platform, host)
    signals += _link_lists(tree)
    signals += _spam_author_block(tree, text)
    signals += _hotlinked_images(tree, platform, host)
    signals += _tracking_links(tree, platform)
    signals += _pasted_markup(tree, platform, names)
    signals += _seo_title(tree)
    return PageSignals(signals, elsewhere)


def copy_evidence(
    raw_page: str | lxml_html.HtmlElement | PageSignals, url: str, platform: str, body_text: str,
    claimed_author: str | None, body_links: list[str] | None = None,
) -> CopyEvidence:
    """Score the page at ``url`` (extracted by the ``platform`` adapter) for being a content-farm copy.

    ``raw_page``: the page, as text or parsed, or its ``page_signals`` read beforehand. ``body_links``
    are the article body's link targets as extraction kept them (unwrapped), where a copy's links to
    its original live; the farm's own link lists are not among them.
    """
    if isinstance(raw_page, PageSignals):
        page = raw_page
    else:
        tree = parse_page_text(raw_page) if isinstance(raw_page, str) else raw_page
        page = page_signals(tree, url, platform)
    signed = signature_author(body_text)
    if platform != "generic":
        return CopyEvidence(list(page.signals), page.elsewhere, signed)
    signals = list(page.signals)
    signals += _author_mismatch(claimed_author, body_text, signed)
    link_signals, linked = _platform_links(body_links or [], platform, host_of(url))
    signals += link_signals
    return CopyEvidence(signals=signals, likely_original_url=page.elsewhere or linked, signature_author=signed)
