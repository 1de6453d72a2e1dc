"""URL normal forms (one row per issue) and host checks used when following links."""

from __future__ import annotations

import pytest

from tomtalks_scraper.urls import (
    clean_link,
    host_of,
    is_tracking_param,
    normalize_url,
    same_site,
    unwrap_query_redirect,
)


@pytest.mark.parametrize(
    ("shared", "expected"),
    [
        (
            "https://tomtalks.example/the-chip-crunch/?utm_source=newsletter&utm_medium=email&utm_campaign=w10",
            "https://tomtalks.example/the-chip-crunch/",
        ),
        ("https://tomtalks.example/the-chip-crunch/?fbclid=IwAR0abcDEF123", "https://tomtalks.example/the-chip-crunch/"),
        ("https://tomtalks.example/the-chip-crunch/?gclid=Cj0KCQ&msclkid=9f8e", "https://tomtalks.example/the-chip-crunch/"),
        (
            "https://www.linkedin.com/pulse/ai-copilots-sales-teams-tom-example-abcde/?trk=public_post_feed-article",
            "https://www.linkedin.com/pulse/ai-copilots-sales-teams-tom-example-abcde/",
        ),
        (
            "https://www.linkedin.com/pulse/ai-copilots-sales-teams-tom-example-abcde/"
            "?trk=article-ssr-frontend-pulse_little-text-block&lipi=urn%3Ali%3Apage%3Ad_flagship3",
            "https://www.linkedin.com/pulse/ai-copilots-sales-teams-tom-example-abcde/",
        ),
        (
            "https://tomtalks.substack.com/p/the-chip-crunch?r=2abc&s=w&utm_campaign=post&triedRedirect=true",
            "https://tomtalks.substack.com/p/the-chip-crunch",
        ),
        ("https://blog.example.com/post/?mc_cid=12ab&mc_eid=34cd&_hsenc=p2AN", "https://blog.example.com/post/"),
    ],
)
def test_normalize_url_drops_tracking_parameters(shared, expected):
    assert normalize_url(shared) == expected


def test_normalize_url_keeps_meaningful_params_and_sorts_them():
    url = "https://blog.example.com/index.php?utm_source=rss&p=123&lang=de&fbclid=xyz"
    assert normalize_url(url) == "https://blog.example.com/index.php?lang=de&p=123"


def test_normalize_url_gives_same_key_whatever_the_query_order():
    first = normalize_url("https://blog.example.com/?p=123&lang=de&utm_medium=email")
    second = normalize_url("https://blog.example.com/?utm_source=x&lang=de&p=123")
    assert first == second == "https://blog.example.com/?lang=de&p=123"


def test_normalize_url_keeps_blank_meaningful_params():
    assert normalize_url("https://example.com/search?q=&utm_term=x") == "https://example.com/search?q="


def test_normalize_url_lowercases_scheme_and_host_but_not_path():
    assert normalize_url("HTTPS://Blog.Example.COM/Posts/The-Chip-Crunch") == "https://blog.example.com/Posts/The-Chip-Crunch"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com:443/issue/1", "https://example.com/issue/1"),
        ("http://example.com:80/issue/1", "http://example.com/issue/1"),
        ("http://example.com:443/issue/1", "http://example.com:443/issue/1"),
        ("https://example.com:8443/issue/1", "https://example.com:8443/issue/1"),
    ],
)
def test_normalize_url_drops_only_the_default_port_of_the_scheme(url, expected):
    assert normalize_url(url) == expected


def test_normalize_url_drops_fragment():
    assert normalize_url("https://example.com/issue/7#comments") == "https://example.com/issue/7"


def test_normalize_url_drops_empty_query_marker():
    assert normalize_url("https://example.com/issue/7?") == "https://example.com/issue/7"


def test_normalize_url_collapses_repeated_slashes_in_path():
    assert normalize_url("https://example.com//2024///03/chip-crunch/") == "https://example.com/2024/03/chip-crunch/"


def test_normalize_url_keeps_trailing_slash_difference():
    assert normalize_url("https://example.com/issue/7/") != normalize_url("https://example.com/issue/7")


def test_normalize_url_gives_root_path_to_bare_host():
    assert normalize_url("https://Example.com") == "https://example.com/"


def test_normalize_url_strips_surrounding_whitespace():
    assert normalize_url("  https://example.com/issue/7\n") == "https://example.com/issue/7"


def test_normalize_url_is_idempotent():
    once = normalize_url("HTTP://Example.com:80//a//b/?z=1&a=2&utm_source=x#top")
    assert normalize_url(once) == once == "http://example.com/a/b/?a=2&z=1"


def test_normalize_url_keeps_ipv6_host_brackets():
    assert normalize_url("http://[::1]:8080/issue/1") == "http://[::1]:8080/issue/1"


@pytest.mark.parametrize(
    "tracking_query",
    ["trackingId=8mQ1%2FzZ4Rk2abc%3D%3D", "_gl=1*1x2y3z*_ga*MTIzNDU2Nzg5MA.."],
)
def test_normalize_url_drops_other_common_tracking_ids(tracking_query):
    url = f"https://www.linkedin.com/pulse/ai-copilots-sales-teams-tom-example-abcde/?{tracking_query}"
    assert normalize_url(url) == "https://www.linkedin.com/pulse/ai-copilots-sales-teams-tom-example-abcde/"


@pytest.mark.parametrize("name", ["utm_source", "UTM_Campaign", "trk", "trk_contact", "fbclid", "mc_cid", "ref"])
def test_is_tracking_param_true_for_tracking_names(name):
    assert is_tracking_param(name)


@pytest.mark.parametrize("name", ["p", "page", "id", "lang", "q", "article"])
def test_is_tracking_param_false_for_meaningful_names(name):
    assert not is_tracking_param(name)


def test_host_of_lowercases_and_drops_port():
    assert host_of("https://Blog.Example.com:8443/a") == "blog.example.com"


def test_host_of_is_empty_for_relative_url():
    assert host_of("/archive/page/2/") == ""


def test_same_site_accepts_exact_host_subdomain_and_www_variant():
    allowed = {"www.tomtalks.example"}
    assert same_site("tomtalks.example", allowed)
    assert same_site("www.tomtalks.example", allowed)
    assert same_site("cdn.tomtalks.example", allowed)


def test_same_site_rejects_lookalike_and_parent_hosts():
    allowed = {"blog.tomtalks.example"}
    assert not same_site("eviltomtalks.example", {"tomtalks.example"})
    assert not same_site("tomtalks.example.attacker.net", {"tomtalks.example"})
    assert not same_site("tomtalks.example", allowed)


def test_clean_link_drops_tracking_params_but_keeps_fragment_and_order():
    link = "https://chipnotes.example/report?utm_source=tomtalks&id=7&fbclid=IwAR0&section=b#fig-2"
    assert clean_link(link) == "https://chipnotes.example/report?id=7&section=b#fig-2"


def test_clean_link_leaves_host_case_and_non_http_links_alone():
    assert clean_link("https://ChipNotes.example/a?b=2&a=1") == "https://ChipNotes.example/a?b=2&a=1"
    assert clean_link("mailto:tom@tomtalks.example?subject=Hi&utm_source=x") == (
        "mailto:tom@tomtalks.example?subject=Hi&utm_source=x"
    )


def test_unwrap_query_redirect_returns_the_wrapped_url():
    wrapped = "https://www.linkedin.com/redir/redirect?url=https%3A%2F%2Fchipnotes%2Eexample%2Freport&urlhash=Ab1_"
    assert unwrap_query_redirect(wrapped, "url") == "https://chipnotes.example/report"


def test_unwrap_query_redirect_keeps_url_without_http_target():
    hostile = "https://www.linkedin.com/redir/redirect?url=javascript%3Aalert%281%29"
    assert unwrap_query_redirect(hostile, "url") == hostile
    other_param = "https://tracker.example/click?u=https%3A%2F%2Fchipnotes.example%2F"
    assert unwrap_query_redirect(other_param, "url") == other_param
