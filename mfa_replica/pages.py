"""The replica's HTML, RSS and robots.txt, in the markup public scrapers of mid.ru show.

Current site (site-evidence.md, "Article pages" and "Listings"): the page chrome (header with
the site-wide ``.lang-switcher``, breadcrumbs, photo album, footer) around either the
photo-content template or the announcement template; listings ``ul.announce.announce_articles >
li.announce__item``. The old portal: ``div.portlet-column-first`` articles, ``ul.anons-list``
listings. Switches (``PageOptions``) pick between the plausible forms of the date line and
simulate template drift. The anti-bot challenge is the F5/TSPD stub the site is known to serve.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.utils import format_datetime

from mfa_replica.content import MSK, SECTIONS, Article, long_date

SITE_LANGUAGES = ["ru", "en", "de", "fr", "es", "pt"]
# RFC 9309 wildcards, as claimed for mid.ru: paging by ?PAGEN forbidden. The date-filtered listing
# puts PAGEN_1 after activeFrom, so its second page stays allowed.
ROBOTS_CURRENT = ("User-agent: *\nDisallow: /*?PAGEN\nDisallow: /en/search/\nDisallow: /ru/search/\n"
                  "Disallow: /private/\n")
# The old portal's asset_publisher rule (claimed; its text was not found): asset_publisher URLs with a
# query string (the portal's redirect= links), not the articles themselves.
ROBOTS_ARCHIVE = "User-agent: *\nDisallow: /*/-/asset_publisher/*?\nDisallow: /c/portal/\n"
CHALLENGE = ('<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
             '<script type="text/javascript" src="/TSPD/08d5c1f2b8ab2000?type=9"></script>'
             '<script>window.rbzns={bereshit:"1"};setTimeout(function(){location.reload()},1000)</script>'
             '</head><body><noscript>Please enable JavaScript to view the page content.</noscript>'
             '<p>Data processing... Please, wait.</p></body></html>')


@dataclass
class PageOptions:
    """Switches of the rendering. ``date_form``: 'text' (likely: a line of text before the title,
    date and time in two inline elements) or 'element' (claimed: ``.photo-content__date``)."""

    date_form: str = "text"
    no_time: bool = False  # drift: the time element is gone
    changed_template: bool = False  # drift: the article and listing classes are renamed
    # drift: the text block's class is renamed while the wrapper and the title stay, so a layout
    # still detects the page but finds no text: the extractor falls back to its generic reader
    renamed_text_block: bool = False


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def stamp_text(article: Article) -> tuple[str, str]:
    """Date and time as the site prints them: ``14.03.2024`` (ru), ``14 March 2024`` (other languages)."""
    day = article.published.date()
    date = f"{day:%d.%m.%Y}" if article.language == "ru" else long_date(day, article.language)
    return date, f"{article.published:%H:%M}"


def _date_line(article: Article, opts: PageOptions, prefix: str) -> str:
    date, at = stamp_text(article)
    time_html = "" if opts.no_time else f'<span class="{prefix}__time">{at}</span>'
    if opts.date_form == "element":
        return f'<div class="{prefix}__info"><span class="{prefix}__date">{date}</span>{time_html}</div>'
    # No known class: date and time glued in the page text as a naive scraper reads it ("14.03.202413:20").
    time_plain = "" if opts.no_time else f"<span>{at}</span>"
    return f'<div class="{prefix}__meta"><span>{date}</span>{time_plain}</div>'


def _chrome(article: Article, main: str, title: str) -> str:
    lang = article.language
    switcher = "".join(f'<li><a href="/{code}/">{code.upper()}</a></li>' for code in SITE_LANGUAGES)
    home = "Главная" if lang == "ru" else "Home"
    album = ('<div class="photo-album"><h3>Дополнительные материалы</h3><p>Фото</p><p>1 из 1 фотографий в альбоме</p></div>'
             if lang == "ru" else
             '<div class="photo-album"><h3>Additional materials</h3><p>Photos</p><p>1 of 1 photos in album</p></div>')
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{esc(title)}</title></head>
<body>
<header class="header"><a class="logo" href="/{lang}/">MFA</a>
<ul class="lang-switcher">{switcher}</ul>
<form class="search-form"><input name="q"><a>{'Расширенные настройки' if lang == 'ru' else 'Advanced settings'}</a></form></header>
<div class="page-body">
<ul class="breadcrumbs"><li><a href="/{lang}/">{home}</a></li><li><a href="{article.listing_path}">{esc(article.section_label)}</a></li></ul>
{main}
{album}
</div>
<footer class="footer"><p>© {'МИД России' if lang == 'ru' else 'Ministry of Foreign Affairs of the Russian Federation'}</p></footer>
</body></html>
"""


def _body(article: Article) -> str:
    if article.html is not None:
        return article.html
    paras = [f"<p>{esc(p)}</p>" for p in article.paragraphs]
    if article.unofficial:
        paras.insert(0, "<p><em>Unofficial translation from Russian</em></p>")
    return "\n".join(paras)


def _lang_links(article: Article, cls: str) -> str:
    links = " ".join(f'<a href="?lang={code}" hreflang="{code}">{code.upper()}</a>' for code in article.languages)
    return f'<div class="{cls}">{links}</div>'


def render_article(article: Article, opts: PageOptions) -> str:
    """A current-site article in its template (photo-content or announcement)."""
    number = article.doc_number or ""
    if article.template == "announcement":
        num = f'<div class="announcement__doc-num">{esc(number)}</div>' if number else ""
        main = (f'<ul class="announcements"><li class="announcement">{_date_line(article, opts, "announcement")}'
                f'<h3 class="announcement__title">{esc(article.title)}</h3>{num}'
                f'<div class="announcement__text">{_body(article)}</div>'
                f'{_lang_links(article, "announcement__lang")}</li></ul>')
    else:
        wrapper, title_cls, text_cls = "photo-content", "photo-content__title", "text article-content"
        if opts.changed_template:  # drift: a redesign renamed the classes
            wrapper, title_cls, text_cls = "news-card", "news-card__heading", "news-card__body"
        if opts.renamed_text_block:
            text_cls = "article-text"
        num = f'<p class="article-line__note article-line__note_small">{esc(number)}</p>' if number else ""
        main = (f'<div class="{wrapper}">{_date_line(article, opts, "photo-content")}'
                f'<h1 class="{title_cls}">{esc(article.title)}</h1>{num}'
                f'<div class="{text_cls}">\n{_body(article)}\n</div>'
                f'{_lang_links(article, "photo-content__lang")}</div>')
    return _chrome(article, main, article.title)


def render_archive_article(article: Article, opts: PageOptions) -> str:
    """An old-portal article: ``div.portlet-column-first h1``, two-digit years on some items."""
    paras = "\n".join(f'<p class="dxl-par"><span class="dxl-run">{esc(p)}</span></p>' for p in article.paragraphs)
    day = f"{article.published:%d.%m.%y}" if article.extra.get("short_year") else f"{article.published:%d.%m.%Y}"
    time_html = "" if opts.no_time else f"<i>{article.published:%H:%M}</i>"
    number = (f'<div class="article-note"><span class="nowrap">{esc(article.doc_number)}</span></div>'
              if article.doc_number else "")
    langs = " ".join(f"<a>{code}-{code.upper() if code != 'en' else 'GB'}</a><sup>1</sup>"
                     for code in article.languages)
    return f"""<!DOCTYPE html>
<html lang="{article.language}"><head>
<meta http-equiv="Content-Type" content="text/html; charset={article.encoding}">
<title>{esc(article.title)} - Министерство иностранных дел Российской Федерации</title></head>
<body class="portal"><div id="wrapper">
<div class="portlet-column portlet-column-first"><div class="portlet-boundary portlet-boundary_101_">
<h1>{esc(article.title)}</h1>
<div class="article-status-line"><span><span>{day}</span>{time_html}</span></div>
<div class="article-languages">{langs}</div>
{number}
<div class="text article-content">
{paras}
</div>
<a class="btn btn-single" href="#video">Video</a>
</div></div>
<div class="portlet-column portlet-column-last"><ul class="links"><li>Посольства и консульства</li></ul></div>
</div></body></html>
"""


def render_listing(articles: list[Article], lang: str, next_url: str | None, opts: PageOptions) -> str:
    """A current-site listing page (newest first)."""
    items = []
    for a in articles:
        date, at = stamp_text(a)
        fix = " announce__link_fix_en" if lang == "en" else ""
        items.append(f'<li class="announce__item"><span class="announce__date">{date}</span>'
                     f'<span class="announce__time">{at}</span>'
                     f'<a class="announce__link{fix}" href="{a.path}">{esc(a.title)}</a>'
                     f'<div class="announce__meta-tags"><a href="#">{esc(a.section_label)}</a></div></li>')
    cls = "news-list" if opts.changed_template else "announce announce_articles"
    nxt = f'<div class="pagination"><a class="pagination__next" href="{esc(next_url)}">»</a></div>' if next_url else ""
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>Listing</title></head>'
            f'<body><header class="header"><ul class="lang-switcher"><li><a href="/en/">EN</a></li>'
            f'<li><a href="/ru/">RU</a></li></ul></header><div class="page-body">'
            f'<ul class="{cls}">{"".join(items)}</ul>{nxt}</div></body></html>')


def render_archive_listing(articles: list[Article], next_url: str | None) -> str:
    """An old-portal listing: ``ul.anons-list > li`` with ``a.anons-title`` and the date in ``i``."""
    items = "\n".join(
        f'<li><div class="anons-status-line"><i>{a.published:%d.%m.%Y}</i></div>'
        f'<p class="anons-title"><a class="anons-title" href="{a.path}">{esc(a.title)}</a></p>'
        f'{f"<b class={chr(34)}doc-number{chr(34)}>{esc(a.doc_number)}</b>" if a.doc_number else ""}'
        f'<div class="anons-text">{esc(a.paragraphs[0][:120])}</div></li>'
        for a in articles)
    nxt = (f'<div class="paginates"><ul><li class="last"><a href="{esc(next_url)}">»</a></li></ul></div>'
           if next_url else "")
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Archive</title></head><body>'
            f'<ul class="anons-list news-anons-list">{items}</ul>{nxt}</body></html>')


def render_rss(articles: list[Article], base_url: str, lang: str) -> str:
    items = "\n".join(
        f"<item><title>{esc(a.title)}</title><link>{base_url}{a.path}</link><guid>{base_url}{a.path}</guid>"
        f"<pubDate>{format_datetime(a.published.replace(tzinfo=MSK))}</pubDate></item>"
        for a in articles)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>MFA</title>'
            f"<link>{base_url}/{lang}/</link><description>{lang}</description>{items}</channel></rss>")


__all__ = ["CHALLENGE", "PageOptions", "ROBOTS_ARCHIVE", "ROBOTS_CURRENT", "SECTIONS", "render_archive_article",
           "render_archive_listing", "render_article", "render_listing", "render_rss"]
