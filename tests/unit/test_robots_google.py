"""Google's own robots.txt test suite, translated: every ``IsUserAgentAllowed`` assertion of
``robots_test.cc`` in github.com/google/robotstxt (commit 22b355ff855419e6a3ff8ff09c0ad7fdb17116f9,
Apache License 2.0), run through the project's robots.txt reading (pipeline/crawl/robots.py,
``RobotsTxt``: Protego, wrapped so that groups are matched as Google's reference parser
matches them).

The translation is mechanical: one test function per ``TEST``, the robots.txt bodies and URLs
as they are, ``EXPECT_TRUE/FALSE(IsUserAgentAllowed(robotstxt, agent, url))`` as
``expect(True/False, robotstxt, agent, url)``; Google's comments are kept. As in Google's
``OneAgentAllowedByRobots``, the agent given is the product token itself (the crawler's
User-Agent header is cut to its token before it gets here: test_robots_token below).

Where the project reads a case differently on purpose, the expectation says so with
``differs=`` and the reason (docs/crawling.md, "robots.txt as Google reads it"): RFC 9309
section 2.2.2 compares paths with their unreserved characters decoded and with non-ASCII
octets percent-encoded, and the fetcher sends a non-ASCII path percent-encoded, so those
spellings are one URL to us.
"""

from __future__ import annotations

import pytest

from pipeline.crawl.robots import RobotsTxt, product_token

_disagreements: list[str] = []

# The cases whose answer follows RFC 9309, not Google's library: (robots.txt rule, url) -> why.
RFC_9309 = "RFC 9309 2.2.2: percent-encoding is normalised on both sides before comparison"


def expect(expected: bool, robotstxt: str, agent: str, url: str, differs: str | None = None) -> None:
    got = RobotsTxt.parse(robotstxt).allows(url, agent)
    want = (not expected) if differs else expected
    if got is not want:
        _disagreements.append(f"agent {agent!r}, url {url[:80]!r}: Google says {expected}, we say {got}"
                              + (f" (meant to differ: {differs})" if differs else "")
                              + f"\n{robotstxt[:300]}")


@pytest.fixture(autouse=True)
def _fresh():
    _disagreements.clear()


def assert_agreed() -> None:
    assert not _disagreements, "\n\n".join(_disagreements)


def test_GoogleOnly_SystemTest():
    robotstxt = ("user-agent: FooBot\n" "disallow: /\n")
    # Empty robots.txt: everything allowed.
    expect(True, "", "FooBot", "")
    # Empty user-agent to be matched: everything allowed.
    expect(True, robotstxt, "", "")
    # Empty url: implicitly disallowed, see method comment for GetPathParamsQuery
    # in robots.cc.
    expect(False, robotstxt, "FooBot", "")
    # All params empty: same as robots.txt empty, everything allowed.
    expect(True, "", "", "")
    assert_agreed()


def test_ID_LineSyntax_Line():
    robotstxt_correct = ("user-agent: FooBot\n" "disallow: /\n")
    robotstxt_incorrect = ("foo: FooBot\n" "bar: /\n")
    robotstxt_incorrect_accepted = ("user-agent FooBot\n" "disallow /\n")
    url = "http://foo.bar/x/y"
    expect(False, robotstxt_correct, "FooBot", url)
    expect(True, robotstxt_incorrect, "FooBot", url)
    expect(False, robotstxt_incorrect_accepted, "FooBot", url)
    assert_agreed()


def test_ID_LineSyntax_Groups():
    robotstxt = ("allow: /foo/bar/\n" "\n" "user-agent: FooBot\n" "disallow: /\n" "allow: /x/\n" "user-agent: BarBot\n" "disallow: /\n" "allow: /y/\n" "\n" "\n" "allow: /w/\n" "user-agent: BazBot\n" "\n" "user-agent: FooBot\n" "allow: /z/\n" "disallow: /\n")
    url_w = "http://foo.bar/w/a"
    url_x = "http://foo.bar/x/b"
    url_y = "http://foo.bar/y/c"
    url_z = "http://foo.bar/z/d"
    url_foo = "http://foo.bar/foo/bar/"
    expect(True, robotstxt, "FooBot", url_x)
    expect(True, robotstxt, "FooBot", url_z)
    expect(False, robotstxt, "FooBot", url_y)
    expect(True, robotstxt, "BarBot", url_y)
    expect(True, robotstxt, "BarBot", url_w)
    expect(False, robotstxt, "BarBot", url_z)
    expect(True, robotstxt, "BazBot", url_z)
    # Lines with rules outside groups are ignored.
    expect(False, robotstxt, "FooBot", url_foo)
    expect(False, robotstxt, "BarBot", url_foo)
    expect(False, robotstxt, "BazBot", url_foo)
    assert_agreed()


def test_ID_LineSyntax_Groups_OtherRules():
    robotstxt = ("User-agent: BarBot\n" "Sitemap: https://foo.bar/sitemap\n" "User-agent: *\n" "Disallow: /\n")
    url = "http://foo.bar/"
    expect(False, robotstxt, "FooBot", url)
    expect(False, robotstxt, "BarBot", url)
    robotstxt = ("User-agent: FooBot\n" "Invalid-Unknown-Line: unknown\n" "User-agent: *\n" "Disallow: /\n")
    url = "http://foo.bar/"
    expect(False, robotstxt, "FooBot", url)
    expect(False, robotstxt, "BarBot", url)
    assert_agreed()


def test_ID_REPLineNamesCaseInsensitive():
    robotstxt_upper = ("USER-AGENT: FooBot\n" "ALLOW: /x/\n" "DISALLOW: /\n")
    robotstxt_lower = ("user-agent: FooBot\n" "allow: /x/\n" "disallow: /\n")
    robotstxt_camel = ("uSeR-aGeNt: FooBot\n" "AlLoW: /x/\n" "dIsAlLoW: /\n")
    url_allowed = "http://foo.bar/x/y"
    url_disallowed = "http://foo.bar/a/b"
    expect(True, robotstxt_upper, "FooBot", url_allowed)
    expect(True, robotstxt_lower, "FooBot", url_allowed)
    expect(True, robotstxt_camel, "FooBot", url_allowed)
    expect(False, robotstxt_upper, "FooBot", url_disallowed)
    expect(False, robotstxt_lower, "FooBot", url_disallowed)
    expect(False, robotstxt_camel, "FooBot", url_disallowed)
    assert_agreed()


def test_ID_UserAgentValueCaseInsensitive():
    robotstxt_upper = ("User-Agent: FOO BAR\n" "Allow: /x/\n" "Disallow: /\n")
    robotstxt_lower = ("User-Agent: foo bar\n" "Allow: /x/\n" "Disallow: /\n")
    robotstxt_camel = ("User-Agent: FoO bAr\n" "Allow: /x/\n" "Disallow: /\n")
    url_allowed = "http://foo.bar/x/y"
    url_disallowed = "http://foo.bar/a/b"
    expect(True, robotstxt_upper, "Foo", url_allowed)
    expect(True, robotstxt_lower, "Foo", url_allowed)
    expect(True, robotstxt_camel, "Foo", url_allowed)
    expect(False, robotstxt_upper, "Foo", url_disallowed)
    expect(False, robotstxt_lower, "Foo", url_disallowed)
    expect(False, robotstxt_camel, "Foo", url_disallowed)
    expect(True, robotstxt_upper, "foo", url_allowed)
    expect(True, robotstxt_lower, "foo", url_allowed)
    expect(True, robotstxt_camel, "foo", url_allowed)
    expect(False, robotstxt_upper, "foo", url_disallowed)
    expect(False, robotstxt_lower, "foo", url_disallowed)
    expect(False, robotstxt_camel, "foo", url_disallowed)
    assert_agreed()


def test_GoogleOnly_AcceptUserAgentUpToFirstSpace():
    # IsValidUserAgentToObey("Foobot Bar") is FALSE
    robotstxt = ("User-Agent: *\n" "Disallow: /\n" "User-Agent: Foo Bar\n" "Allow: /x/\n" "Disallow: /\n")
    url = "http://foo.bar/x/y"
    expect(True, robotstxt, "Foo", url)
    expect(False, robotstxt, "Foo Bar", url)
    assert_agreed()


def test_ID_GlobalGroups_Secondary():
    robotstxt_empty = ""
    robotstxt_global = ("user-agent: *\n" "allow: /\n" "user-agent: FooBot\n" "disallow: /\n")
    robotstxt_only_specific = ("user-agent: FooBot\n" "allow: /\n" "user-agent: BarBot\n" "disallow: /\n" "user-agent: BazBot\n" "disallow: /\n")
    url = "http://foo.bar/x/y"
    expect(True, robotstxt_empty, "FooBot", url)
    expect(False, robotstxt_global, "FooBot", url)
    expect(True, robotstxt_global, "BarBot", url)
    expect(True, robotstxt_only_specific, "QuxBot", url)
    assert_agreed()


def test_ID_AllowDisallow_Value_CaseSensitive():
    robotstxt_lowercase_url = ("user-agent: FooBot\n" "disallow: /x/\n")
    robotstxt_uppercase_url = ("user-agent: FooBot\n" "disallow: /X/\n")
    url = "http://foo.bar/x/y"
    expect(False, robotstxt_lowercase_url, "FooBot", url)
    expect(True, robotstxt_uppercase_url, "FooBot", url)
    assert_agreed()


def test_ID_LongestMatch():
    url = "http://foo.bar/x/page.html"
    robotstxt = ("user-agent: FooBot\n" "disallow: /x/page.html\n" "allow: /x/\n")
    expect(False, robotstxt, "FooBot", url)
    robotstxt = ("user-agent: FooBot\n" "allow: /x/page.html\n" "disallow: /x/\n")
    expect(True, robotstxt, "FooBot", url)
    expect(False, robotstxt, "FooBot", "http://foo.bar/x/")
    robotstxt = ("user-agent: FooBot\n" "disallow: \n" "allow: \n")
    # In case of equivalent disallow and allow patterns for the same
    # user-agent, allow is used.
    expect(True, robotstxt, "FooBot", url)
    robotstxt = ("user-agent: FooBot\n" "disallow: /\n" "allow: /\n")
    # In case of equivalent disallow and allow patterns for the same
    # user-agent, allow is used.
    expect(True, robotstxt, "FooBot", url)
    url_a = "http://foo.bar/x"
    url_b = "http://foo.bar/x/"
    robotstxt = ("user-agent: FooBot\n" "disallow: /x\n" "allow: /x/\n")
    expect(False, robotstxt, "FooBot", url_a)
    expect(True, robotstxt, "FooBot", url_b)
    robotstxt = ("user-agent: FooBot\n" "disallow: /x/page.html\n" "allow: /x/page.html\n")
    # In case of equivalent disallow and allow patterns for the same
    # user-agent, allow is used.
    expect(True, robotstxt, "FooBot", url)
    robotstxt = ("user-agent: FooBot\n" "allow: /page\n" "disallow: /*.html\n")
    # Longest match wins.
    expect(False, robotstxt, "FooBot", "http://foo.bar/page.html")
    expect(True, robotstxt, "FooBot", "http://foo.bar/page")
    robotstxt = ("user-agent: FooBot\n" "allow: /x/page.\n" "disallow: /*.html\n")
    # Longest match wins.
    expect(True, robotstxt, "FooBot", url)
    expect(False, robotstxt, "FooBot", "http://foo.bar/x/y.html")
    robotstxt = ("User-agent: *\n" "Disallow: /x/\n" "User-agent: FooBot\n" "Disallow: /y/\n")
    # Most specific group for FooBot allows implicitly /x/page.
    expect(True, robotstxt, "FooBot", "http://foo.bar/x/page")
    expect(False, robotstxt, "FooBot", "http://foo.bar/y/page")
    assert_agreed()


def test_ID_Encoding():
    # /foo/bar?baz=http://foo.bar stays unencoded.
    robotstxt = ("User-agent: FooBot\n" "Disallow: /\n" "Allow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n")
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo/bar?qux=taz&baz=http://foo.bar?tar&par")
    # 3 byte character: /foo/bar/ツ -> /foo/bar/%E3%83%84
    robotstxt = ("User-agent: FooBot\n" "Disallow: /\n" "Allow: /foo/bar/ツ\n")
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo/bar/%E3%83%84")
    # The parser encodes the 3-byte character, but the URL is not %-encoded.
    expect(False, robotstxt, "FooBot", "http://foo.bar/foo/bar/ツ", differs=RFC_9309)
    # Percent encoded 3 byte character: /foo/bar/%E3%83%84 -> /foo/bar/%E3%83%84
    robotstxt = ("User-agent: FooBot\n" "Disallow: /\n" "Allow: /foo/bar/%E3%83%84\n")
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo/bar/%E3%83%84")
    expect(False, robotstxt, "FooBot", "http://foo.bar/foo/bar/ツ", differs=RFC_9309)
    # Percent encoded unreserved US-ASCII: /foo/bar/%62%61%7A -> NULL
    # This is illegal according to RFC3986 and while it may work here due to
    # simple string matching, it should not be relied on.
    robotstxt = ("User-agent: FooBot\n" "Disallow: /\n" "Allow: /foo/bar/%62%61%7A\n")
    expect(False, robotstxt, "FooBot", "http://foo.bar/foo/bar/baz", differs=RFC_9309)
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo/bar/%62%61%7A")
    assert_agreed()


def test_ID_SpecialCharacters():
    robotstxt = ("User-agent: FooBot\n" "Disallow: /foo/bar/quz\n" "Allow: /foo/*/qux\n")
    expect(False, robotstxt, "FooBot", "http://foo.bar/foo/bar/quz")
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo/quz")
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo//quz")
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo/bax/quz")
    robotstxt = ("User-agent: FooBot\n" "Disallow: /foo/bar$\n" "Allow: /foo/bar/qux\n")
    expect(False, robotstxt, "FooBot", "http://foo.bar/foo/bar")
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo/bar/qux")
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo/bar/")
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo/bar/baz")
    robotstxt = ("User-agent: FooBot\n" "# Disallow: /\n" "Disallow: /foo/quz#qux\n" "Allow: /\n")
    expect(True, robotstxt, "FooBot", "http://foo.bar/foo/bar")
    expect(False, robotstxt, "FooBot", "http://foo.bar/foo/quz")
    assert_agreed()


def test_GoogleOnly_IndexHTMLisDirectory():
    robotstxt = ("User-Agent: *\n" "Allow: /allowed-slash/index.html\n" "Disallow: /\n")
    # If index.html is allowed, we interpret this as / being allowed too.
    expect(True, robotstxt, "foobot", "http://foo.com/allowed-slash/")
    # Does not exatly match.
    expect(False, robotstxt, "foobot", "http://foo.com/allowed-slash/index.htm")
    # Exact match.
    expect(True, robotstxt, "foobot", "http://foo.com/allowed-slash/index.html")
    expect(False, robotstxt, "foobot", "http://foo.com/anyother-url")
    assert_agreed()


def test_GoogleOnly_LineTooLong():
    kEOLLen = len("\n")
    kMaxLineLen = 2083 * 8
    allow = "allow: "
    disallow = "disallow: "
    # Disallow rule pattern matches the URL after being cut off at kMaxLineLen.
    robotstxt = "user-agent: FooBot\n"
    longline = "/x/"
    max_length = kMaxLineLen - len(longline) - len(disallow) + kEOLLen
    longline += "a" * (max_length - len(longline))
    robotstxt += disallow + longline + "/qux\n"
    # Matches nothing, so URL is allowed.
    expect(True, robotstxt, "FooBot", "http://foo.bar/fux")
    # Matches cut off disallow rule.
    expect(False, robotstxt, "FooBot", "".join(("http://foo.bar", longline, "/fux")))
    robotstxt = ("user-agent: FooBot\n" "disallow: /\n")
    longline_a = "/x/"
    longline_b = "/x/"
    max_length = kMaxLineLen - len(longline_a) - len(allow) + kEOLLen
    longline_a += "a" * (max_length - len(longline_a))
    longline_b += "b" * (max_length - len(longline_b))
    robotstxt += allow + longline_a + "/qux\n"
    robotstxt += allow + longline_b + "/qux\n"
    # URL matches the disallow rule.
    expect(False, robotstxt, "FooBot", "http://foo.bar/")
    # Matches the allow rule exactly.
    expect(True, robotstxt, "FooBot", "".join(("http://foo.bar", longline_a, "/qux")))
    # Matches cut off allow rule.
    expect(True, robotstxt, "FooBot", "".join(("http://foo.bar", longline_b, "/fux")))
    assert_agreed()


def test_GoogleOnly_DocumentationChecks():
    # Test documentation from
    # https://developers.google.com/search/reference/robots_txt
    # Section "URL matching based on path values".
    robotstxt = ("user-agent: FooBot\n" "disallow: /\n" "allow: /fish\n")
    expect(False, robotstxt, "FooBot", "http://foo.bar/bar")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish.html")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish/salmon.html")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fishheads")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fishheads/yummy.html")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish.html?id=anything")
    expect(False, robotstxt, "FooBot", "http://foo.bar/Fish.asp")
    expect(False, robotstxt, "FooBot", "http://foo.bar/catfish")
    expect(False, robotstxt, "FooBot", "http://foo.bar/?id=fish")
    # "/fish*" equals "/fish"
    robotstxt = ("user-agent: FooBot\n" "disallow: /\n" "allow: /fish*\n")
    expect(False, robotstxt, "FooBot", "http://foo.bar/bar")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish.html")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish/salmon.html")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fishheads")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fishheads/yummy.html")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish.html?id=anything")
    expect(False, robotstxt, "FooBot", "http://foo.bar/Fish.bar")
    expect(False, robotstxt, "FooBot", "http://foo.bar/catfish")
    expect(False, robotstxt, "FooBot", "http://foo.bar/?id=fish")
    # "/fish/" does not equal "/fish"
    robotstxt = ("user-agent: FooBot\n" "disallow: /\n" "allow: /fish/\n")
    expect(False, robotstxt, "FooBot", "http://foo.bar/bar")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish/")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish/salmon")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish/?salmon")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish/salmon.html")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish/?id=anything")
    expect(False, robotstxt, "FooBot", "http://foo.bar/fish")
    expect(False, robotstxt, "FooBot", "http://foo.bar/fish.html")
    expect(False, robotstxt, "FooBot", "http://foo.bar/Fish/Salmon.html")
    # "/*.php"
    robotstxt = ("user-agent: FooBot\n" "disallow: /\n" "allow: /*.php\n")
    expect(False, robotstxt, "FooBot", "http://foo.bar/bar")
    expect(True, robotstxt, "FooBot", "http://foo.bar/filename.php")
    expect(True, robotstxt, "FooBot", "http://foo.bar/folder/filename.php")
    expect(True, robotstxt, "FooBot", "http://foo.bar/folder/filename.php?parameters")
    expect(True, robotstxt, "FooBot", "http://foo.bar//folder/any.php.file.html")
    expect(True, robotstxt, "FooBot", "http://foo.bar/filename.php/")
    expect(True, robotstxt, "FooBot", "http://foo.bar/index?f=filename.php/")
    expect(False, robotstxt, "FooBot", "http://foo.bar/php/")
    expect(False, robotstxt, "FooBot", "http://foo.bar/index?php")
    expect(False, robotstxt, "FooBot", "http://foo.bar/windows.PHP")
    # "/*.php$"
    robotstxt = ("user-agent: FooBot\n" "disallow: /\n" "allow: /*.php$\n")
    expect(False, robotstxt, "FooBot", "http://foo.bar/bar")
    expect(True, robotstxt, "FooBot", "http://foo.bar/filename.php")
    expect(True, robotstxt, "FooBot", "http://foo.bar/folder/filename.php")
    expect(False, robotstxt, "FooBot", "http://foo.bar/filename.php?parameters")
    expect(False, robotstxt, "FooBot", "http://foo.bar/filename.php/")
    expect(False, robotstxt, "FooBot", "http://foo.bar/filename.php5")
    expect(False, robotstxt, "FooBot", "http://foo.bar/php/")
    expect(False, robotstxt, "FooBot", "http://foo.bar/filename?php")
    expect(False, robotstxt, "FooBot", "http://foo.bar/aaaphpaaa")
    expect(False, robotstxt, "FooBot", "http://foo.bar//windows.PHP")
    # "/fish*.php"
    robotstxt = ("user-agent: FooBot\n" "disallow: /\n" "allow: /fish*.php\n")
    expect(False, robotstxt, "FooBot", "http://foo.bar/bar")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fish.php")
    expect(True, robotstxt, "FooBot", "http://foo.bar/fishheads/catfish.php?parameters")
    expect(False, robotstxt, "FooBot", "http://foo.bar/Fish.PHP")
    # Section "Order of precedence for group-member records".
    robotstxt = ("user-agent: FooBot\n" "allow: /p\n" "disallow: /\n")
    url = "http://example.com/page"
    expect(True, robotstxt, "FooBot", url)
    robotstxt = ("user-agent: FooBot\n" "allow: /folder\n" "disallow: /folder\n")
    url = "http://example.com/folder/page"
    expect(True, robotstxt, "FooBot", url)
    robotstxt = ("user-agent: FooBot\n" "allow: /page\n" "disallow: /*.htm\n")
    url = "http://example.com/page.htm"
    expect(False, robotstxt, "FooBot", url)
    robotstxt = ("user-agent: FooBot\n" "allow: /$\n" "disallow: /\n")
    url = "http://example.com/"
    url_page = "http://example.com/page.html"
    expect(True, robotstxt, "FooBot", url)
    expect(False, robotstxt, "FooBot", url_page)
    assert_agreed()


# --- the crawler's own User-Agent: groups match its product token only ----------------------

class _Answer:
    status = 200

    def __init__(self, text: str):
        self.content = text.encode()


@pytest.mark.parametrize("name", ["polite", "crawler", "archive", "transcripts", "0.1", "mfa", "ingest"])
def test_robots_token_a_word_of_the_user_agent_is_not_our_name(name):
    from pipeline.crawl.robots import RobotsRules
    from pipeline.settings import Settings

    robots = f"User-agent: {name}\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    rules = RobotsRules(lambda url: _Answer(robots), Settings().crawl_user_agent, ttl=60,
                        retry_unreachable_after=60)
    rules.check("https://mid.ru/en/press_service/minister_speeches/")  # raises RobotsDisallowed if it applied


@pytest.mark.parametrize("group", ["mfa-ingest", "MFA-Ingest", "mfa-ingest/2.0", "mfa-ingest extra words"])
def test_robots_token_our_group_applies_in_any_case(group):
    from pipeline.crawl.robots import RobotsRules
    from pipeline.model.errors import RobotsDisallowed
    from pipeline.settings import Settings

    robots = f"User-agent: *\nAllow: /\n\nUser-agent: {group}\nDisallow: /en/\n"
    rules = RobotsRules(lambda url: _Answer(robots), Settings().crawl_user_agent, ttl=60,
                        retry_unreachable_after=60)
    with pytest.raises(RobotsDisallowed):
        rules.check("https://mid.ru/en/press_service/minister_speeches/")


def test_robots_token_is_the_first_word():
    assert product_token("mfa-ingest/0.1 (archive of published MFA transcripts; polite crawler)") == "mfa-ingest"
    assert product_token("Foo Bar") == "Foo"
    with pytest.raises(Exception, match="product token"):
        product_token("/0.1 nothing")
