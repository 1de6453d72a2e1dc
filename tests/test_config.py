"""newsletters.toml: valid files load in order; every mistake is a ConfigError naming the file, entry and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tomtalks_scraper.config import ConfigError, NewsletterConfig, find_newsletter, load_config

FULL_CONFIG = """\
# The newsletters I archive.

[[newsletter]]
name = " TomTalks "
platform = "linkedin"
urls = [
    "https://www.linkedin.com/newsletters/tomtalks-7012345678901234567/",
    "  https://www.linkedin.com/in/tom-example/recent-activity/newsletter/  ",
    "   ",
]
schedule = "daily"
include = ["/pulse/"]
exclude = ["/comments/", "/events/"]

[[newsletter]]
name = "Chip Notes"
urls = "https://chipnotes.example/feed/"
"""


def write(tmp_path: Path, text: str, name: str = "newsletters.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_config_reads_entries_in_file_order(tmp_path):
    entries = load_config(write(tmp_path, FULL_CONFIG))
    assert [e.name for e in entries] == ["TomTalks", "Chip Notes"]


def test_load_config_reads_every_key_and_strips_names_and_urls(tmp_path):
    first = load_config(write(tmp_path, FULL_CONFIG))[0]
    assert first == NewsletterConfig(
        name="TomTalks",
        urls=[
            "https://www.linkedin.com/newsletters/tomtalks-7012345678901234567/",
            "https://www.linkedin.com/in/tom-example/recent-activity/newsletter/",
        ],
        platform="linkedin",
        schedule="daily",
        include=["/pulse/"],
        exclude=["/comments/", "/events/"],
    )


def test_load_config_accepts_single_url_string_and_fills_defaults(tmp_path):
    second = load_config(write(tmp_path, FULL_CONFIG))[1]
    assert second == NewsletterConfig(name="Chip Notes", urls=["https://chipnotes.example/feed/"])
    assert (second.platform, second.schedule, second.include, second.exclude) == (None, None, [], [])


def test_load_config_accepts_str_path(tmp_path):
    assert load_config(str(write(tmp_path, FULL_CONFIG)))[1].name == "Chip Notes"


def test_load_config_of_empty_file_is_empty_list(tmp_path):
    assert load_config(write(tmp_path, "# nothing yet\n")) == []


def test_load_config_missing_file_says_how_to_create_it(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file; create it with one \[\[newsletter\]\]"):
        load_config(missing)


def test_load_config_invalid_toml_names_file_and_position(tmp_path):
    path = write(tmp_path, '[[newsletter]\nname = "TomTalks"\n')
    with pytest.raises(ConfigError, match=r"newsletters\.toml: not valid TOML: .*line 1"):
        load_config(path)


def test_load_config_rejects_unknown_top_level_key(tmp_path):
    path = write(tmp_path, 'title = "My archive"\n\n[[newsletter]]\nname = "TomTalks"\n')
    with pytest.raises(ConfigError, match=r"unknown top-level key\(s\) \['title'\]; expected \[\[newsletter\]\]"):
        load_config(path)


def test_load_config_rejects_single_table_instead_of_array(tmp_path):
    path = write(tmp_path, '[newsletter]\nname = "TomTalks"\n')
    with pytest.raises(ConfigError, match=r"must be an array of tables: write \[\[newsletter\]\]"):
        load_config(path)


def test_load_config_rejects_misspelled_key_listing_known_keys(tmp_path):
    path = write(tmp_path, '[[newsletter]]\nname = "TomTalks"\nurl = "https://tomtalks.example/"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "[[newsletter]] #1" in message
    assert "unknown key(s) ['url']" in message
    assert "'urls'" in message


@pytest.mark.parametrize("name_line", ['name = ""', 'name = "   "', "name = 42", ""])
def test_load_config_requires_non_empty_name(tmp_path, name_line):
    path = write(tmp_path, f'[[newsletter]]\nname = "First"\n\n[[newsletter]]\n{name_line}\nurls = ["https://a.example/"]\n')
    with pytest.raises(ConfigError, match=r"\[\[newsletter\]\] #2: 'name' must be a non-empty string"):
        load_config(path)


@pytest.mark.parametrize("urls_line", ["urls = [1, 2]", 'urls = {home = "https://a.example/"}', "urls = 7"])
def test_load_config_rejects_urls_that_are_not_strings(tmp_path, urls_line):
    path = write(tmp_path, f'[[newsletter]]\nname = "Chip Notes"\n{urls_line}\n')
    with pytest.raises(ConfigError, match=r"#1 \(Chip Notes\): 'urls' must be a list of URL strings"):
        load_config(path)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.linkedin.com/newsletters/<slug>-<id>/",  # the template placeholder left in
        "www.tomtalks.example/feed/",
        "ftp://files.example/newsletter/",
        "/feed/",
        "https:///feed/",
    ],
)
def test_load_config_rejects_url_that_is_not_full_http(tmp_path, url):
    path = write(tmp_path, f'[[newsletter]]\nname = "TomTalks"\nurls = ["{url}"]\n')
    with pytest.raises(ConfigError, match="is not a full http\\(s\\) URL") as caught:
        load_config(path)
    assert repr(url) in str(caught.value)
    assert "(TomTalks)" in str(caught.value)


def test_load_config_rejects_names_used_twice_ignoring_case(tmp_path):
    path = write(tmp_path, '[[newsletter]]\nname = "TomTalks"\n\n[[newsletter]]\nname = "tomtalks"\n')
    with pytest.raises(ConfigError, match=r"used twice: \['tomtalks'\]"):
        load_config(path)


def test_load_config_treats_single_include_string_like_urls(tmp_path):
    path = write(tmp_path, '[[newsletter]]\nname = "TomTalks"\ninclude = "/pulse/"\nexclude = "/comments/"\n')
    entry = load_config(path)[0]
    assert (entry.include, entry.exclude) == (["/pulse/"], ["/comments/"])


def test_load_config_rejects_non_string_platform(tmp_path):
    path = write(tmp_path, '[[newsletter]]\nname = "TomTalks"\nplatform = 3\n')
    with pytest.raises(ConfigError, match="platform"):
        load_config(path)


def test_find_newsletter_matches_name_case_insensitively(tmp_path):
    entries = load_config(write(tmp_path, FULL_CONFIG))
    assert find_newsletter(entries, "chip notes").urls == ["https://chipnotes.example/feed/"]


def test_find_newsletter_defaults_to_first_entry(tmp_path):
    entries = load_config(write(tmp_path, FULL_CONFIG))
    assert find_newsletter(entries, None).name == "TomTalks"


def test_find_newsletter_unknown_name_lists_configured_names(tmp_path):
    entries = load_config(write(tmp_path, FULL_CONFIG))
    with pytest.raises(ConfigError, match=r"no newsletter named 'Substack'; configured: \['TomTalks', 'Chip Notes'\]"):
        find_newsletter(entries, "Substack")


def test_find_newsletter_without_entries_says_to_add_one():
    with pytest.raises(ConfigError, match=r"lists no newsletters; add a \[\[newsletter\]\] table"):
        find_newsletter([], "TomTalks")
