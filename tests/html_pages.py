"""Realistic news pages for the HTML extractor: the article paragraphs a reader came for,
wrapped in what sites put around them — cookie banners, navigation, scripts, bylines,
section labels, tag lines, related links, trending lists, author bios, newsletter boxes.

Each page lists its article ``paragraphs`` (what the body must keep) and its
``boilerplate`` (strings the body must not contain). ``tests/test_html_extract.py``
asserts on them; ``bench/html_extract.py`` measures word precision and recall over them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str
    html: str
    paragraphs: tuple[str, ...]
    boilerplate: tuple[str, ...]


def _ps(paragraphs: tuple[str, ...], between: str = "") -> str:
    return between.join(f"<p>{p}</p>\n" for p in paragraphs)


HEAD = """<head><meta charset="utf-8"><title>{title} | {site}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="{day}T08:00:00Z">
<link rel="canonical" href="https://{host}/news/{slug}">
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"page": "article"}});</script>
<style>.banner {{ position: fixed; bottom: 0 }}</style></head>"""

COOKIES = """<div id="gdpr-consent" class="consent-layer"><p>We use cookies to improve your
experience and to show you personalised advertising. By clicking Accept all you agree to
our use of cookies.</p><a href="/privacy">Manage preferences</a> <a href="#">Accept all</a></div>"""

NAV = """<div class="masthead"><a href="/">Home</a> <a href="/world">World</a>
<a href="/business">Business</a> <a href="/tech">Technology</a> <a href="/sport">Sport</a>
<a href="/opinion">Opinion</a> <a href="/subscribe">Subscribe</a></div>"""

TRENDING = """<div class="trending-rail"><h3>Trending now</h3><ol>
<li><a href="/a">Stocks slide as bond yields climb to a sixteen-year high</a></li>
<li><a href="/b">Five things to know before the market opens on Thursday</a></li>
<li><a href="/c">The best budget phones you can buy this winter, ranked</a></li>
</ol></div>"""

BIO = """<div class="author-card"><img src="/staff/jd.jpg" alt=""><p><b>Jane Doe</b> is a senior
correspondent covering trade and industrial policy. She previously reported from Hong Kong
and Singapore for a decade.</p><a href="/staff/jane-doe">More from Jane Doe</a></div>"""

SIGNUP = """<div class="inline-module"><h4>The Morning Brief</h4><p>Get the day's top stories
in your inbox every weekday morning. Sign up for our free newsletter today.</p>
<input type="email" placeholder="Email address"><a href="#">Sign up</a></div>"""

RELATED = """<div class="more-coverage"><h3>More coverage</h3><ul>
<li><a href="/x">Chip makers brace for new export rules next year</a></li>
<li><a href="/y">Analysis: what the trade truce means for shoppers</a></li></ul></div>"""

FOOTER_LINKS = """<div class="site-bottom"><a href="/about">About us</a> <a href="/contact">Contact</a>
<a href="/terms">Terms of use</a> <p>Copyright 2023 Example Media Group. All rights reserved.</p></div>"""

SCRIPT = """<script>(function(){var s=document.createElement('script');s.src='/ads.js';
document.body.appendChild(s);})();</script>"""

BOILERPLATE_COMMON = (
    "We use cookies",
    "Accept all",
    "Trending now",
    "Stocks slide as bond yields",
    "senior correspondent covering trade",
    "Sign up for our free newsletter",
    "The Morning Brief",
    "Chip makers brace",
    "All rights reserved",
    "dataLayer",
    "ads.js",
)

CHIPS = (
    "The Commerce Department on Tuesday widened its restrictions on exports of advanced "
    "computer chips to China, closing gaps that officials said had let companies sell "
    "slightly slower processors built for artificial intelligence.",
    "The new rules cover a wider range of graphics processors and add more than a dozen "
    "Chinese firms to a list of companies that need a licence to buy American technology.",
    "“We are not trying to hurt China’s economy,” Commerce Secretary Gina Raimondo told "
    "reporters, adding that the measures were aimed at military uses of the chips.",
    "Shares of chip designers fell in early trading, with investors weighing how much of "
    "their revenue came from Chinese customers.",
    "Beijing’s foreign ministry said the controls violated the principles of fair "
    "competition and that China would take steps to protect its interests.",
)

HARBOUR = (
    "The harbour authority approved a plan on Monday to dredge the main shipping channel, "
    "a project it said would let larger container ships call at the port by 2026.",
    "The work is expected to cost about 140 million dollars, two thirds of it paid by the "
    "state government and the rest by a levy on shipping lines.",
    "Environmental groups have warned that the dredging could stir up contaminated sediment "
    "and harm seagrass beds in the bay.",
    "The authority said it would monitor water quality daily while the work is carried out "
    "and stop dredging if pollution rose above agreed limits.",
)

FARMS = (
    "Wheat growers in the south of the country expect their smallest harvest in eight years "
    "after a dry winter and a heatwave in September, the farmers’ association said.",
    "The association cut its forecast to 21 million tonnes, down a quarter from last year, "
    "and warned that some farms would not plant a crop next season.",
    "Grain prices have risen by about ten percent since August as buyers look for supplies "
    "from other exporters.",
    "The agriculture minister said emergency loans would be available to farmers who had "
    "lost more than half of their crop.",
)

MUSEUM = (
    "The city museum will reopen in March after a three-year renovation that doubled its "
    "exhibition space and added a rooftop garden, its director said on Wednesday.",
    "The first show will bring together more than two hundred paintings by artists who "
    "worked in the port during the nineteenth century, many of them never shown before.",
    "Tickets will be free for residents on the first weekend, and the museum expects about "
    "ten thousand visitors a day.",
    "The renovation ran a year late and cost 18 million euros more than planned because of "
    "problems with the building’s foundations.",
)

TRANSIT = (
    "Bus fares will rise by 20 cents from January, the transit agency said, its first "
    "increase in five years.",
    "The agency said higher fuel and wage costs had left it with a deficit of 35 million "
    "dollars this year despite record ridership on its express routes.",
    "Riders with monthly passes will be spared the increase until July, and discounts for "
    "students and older riders will stay the same.",
    "A public hearing on the plan will be held at city hall on December 12.",
)

PAGES = (
    # <article> holding the byline, the section label and the tag line with the story.
    Page(
        "article-with-byline-and-tags",
        f"""<!doctype html><html>{HEAD.format(title="US widens chip export curbs", site="Cnbc | World Business News Leader", day="2023-10-17", host="www.example.com", slug="chips")}
<body>{COOKIES}{NAV}
<article><a class="kicker" href="/tech">Technology</a>
<h1>US widens chip export curbs</h1>
<div class="byline">By Staff Writer · November 21, 2023</div>
{_ps(CHIPS[:3])}<div class="ad-slot">Advertisement</div>{_ps(CHIPS[3:])}
<div class="article-tags">Topics: Technology, Policy</div>
</article>{RELATED}{TRENDING}{FOOTER_LINKS}{SCRIPT}</body></html>""",
        CHIPS,
        (*BOILERPLATE_COMMON, "By Staff Writer", "Topics: Technology, Policy", "Advertisement"),
    ),
    # <main> without <article>: related links, bio and sign-up inside it.
    Page(
        "main-with-bio-and-signup",
        f"""<!doctype html><html>{HEAD.format(title="Harbour dredging plan approved", site="Coast Herald", day="2023-11-06", host="coastherald.example", slug="harbour")}
<body>{NAV}<main><div class="section-label">Local News</div>
<h1>Harbour dredging plan approved</h1>
<p class="meta">By Jane Doe · November 6, 2023 · 3 min read</p>
{_ps(HARBOUR[:2])}{SIGNUP}{_ps(HARBOUR[2:])}
{BIO}{RELATED}</main>{TRENDING}{COOKIES}{FOOTER_LINKS}{SCRIPT}</body></html>""",
        HARBOUR,
        (*BOILERPLATE_COMMON, "By Jane Doe", "3 min read", "Local News"),
    ),
    # Neither <article> nor <main>: the story sits among sibling boxes in plain divs.
    Page(
        "div-soup-with-trending",
        f"""<!doctype html><html>{HEAD.format(title="Wheat harvest smallest in eight years", site="Farm Weekly", day="2023-10-02", host="farmweekly.example", slug="wheat")}
<body><div class="wrap">{NAV}<div class="grid"><div class="col-main">
<div class="story-head"><span class="cat">Agriculture</span><h1>Wheat harvest smallest in eight years</h1>
<span class="by">By Tom Field · October 2, 2023</span></div>
<div class="story-text">{_ps(FARMS)}</div>
<div class="story-foot">Tags: Agriculture, Weather, Exports</div>
{BIO}</div><div class="col-side">{TRENDING}{SIGNUP}</div></div>
{RELATED}{FOOTER_LINKS}</div>{COOKIES}{SCRIPT}</body></html>""",
        FARMS,
        (*BOILERPLATE_COMMON, "By Tom Field", "Tags: Agriculture"),
    ),
    # A blog-style template: entry content, post meta, share row, related posts.
    Page(
        "blog-template-with-share-row",
        f"""<!doctype html><html>{HEAD.format(title="City museum to reopen in March", site="The Roar | Sports Writers Blog", day="2023-11-15", host="cityblog.example", slug="museum")}
<body>{COOKIES}<div id="page"><div class="topbar">{NAV}</div>
<div class="post"><div class="post-meta">Culture · Posted by Anna Berg on November 15, 2023</div>
<h1 class="post-title">City museum to reopen in March</h1>
<div class="share-row">Share this article: Facebook Twitter LinkedIn Email</div>
<div class="entry-content">{_ps(MUSEUM)}</div>
<div class="post-tags">Filed under: Culture, Museums, City</div>
<div class="jp-relatedposts"><h3>You might also like</h3><p><a href="/r1">Ten galleries worth the trip this winter</a></p></div>
{BIO}</div></div>{TRENDING}{FOOTER_LINKS}{SCRIPT}</body></html>""",
        MUSEUM,
        (
            *BOILERPLATE_COMMON,
            "Posted by Anna Berg",
            "Share this article",
            "Filed under",
            "You might also like",
        ),
    ),
    # A bare page: paragraphs straight in <body> between header and footer debris.
    Page(
        "bare-body-with-read-more",
        f"""<!doctype html><html>{HEAD.format(title="Bus fares to rise in January", site="Metro Daily", day="2023-11-28", host="metrodaily.example", slug="fares")}
<body>{NAV}<h1>Bus fares to rise in January</h1>
<p><i>By Metro Daily staff · Updated November 28, 2023 at 6:05 pm</i></p>
{_ps(TRANSIT[:2])}<p><b>Read more:</b> <a href="/z">Transit agency names new chief</a></p>
{_ps(TRANSIT[2:])}<p>Topics: Transport, City Hall</p>
{TRENDING}{SIGNUP}{BIO}{FOOTER_LINKS}{COOKIES}{SCRIPT}</body></html>""",
        TRANSIT,
        (
            *BOILERPLATE_COMMON,
            "By Metro Daily staff",
            "Read more",
            "Transit agency names new chief",
            "Topics: Transport",
        ),
    ),
)
