"""arXiv Atom / RSS feeds and plain id lists."""

from __future__ import annotations

from index.sources import arxiv_atom, arxiv_ids, detect_format

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:arxiv="http://arxiv.org/schemas/atom">
  <link href="http://arxiv.org/api/query?id_list=2101.01234" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: id_list=2101.01234</title>
  <id>http://arxiv.org/api/abc</id>
  <updated>2024-01-01T00:00:00-05:00</updated>
  <opensearch:totalResults>3</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/abs/2101.01234v2</id>
    <updated>2021-02-01T10:00:00Z</updated>
    <published>2021-01-04T18:00:00Z</published>
    <title>Scaling Things &amp; Stuff:
  A Study</title>
    <summary>  We study things.
  Code is at https://github.com/ex/things.
</summary>
    <author><name>Ada Lovelace</name><arxiv:affiliation>Analytical</arxiv:affiliation></author>
    <author><name>Jörg Müller</name></author>
    <arxiv:doi>10.1000/xyz.1</arxiv:doi>
    <link title="doi" href="http://dx.doi.org/10.1000/xyz.1" rel="related"/>
    <arxiv:comment>12 pages; project page https://ex.org/things</arxiv:comment>
    <arxiv:journal_ref>NeurIPS 2021</arxiv:journal_ref>
    <link href="http://arxiv.org/abs/2101.01234v2" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/2101.01234v2" rel="related" type="application/pdf"/>
    <arxiv:primary_category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/hep-th/9901001v1</id>
    <published>1999-01-01T00:00:00Z</published>
    <title>An Old-Style Paper</title>
    <summary>Strings.</summary>
    <author><name>E. Witten</name></author>
  </entry>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id>
    <title>Error</title>
    <summary>incorrect id format for 1234</summary>
  </entry>
</feed>
"""

RSS_ATOM = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
      xmlns="http://www.w3.org/2005/Atom" xml:lang="en-us">
  <id>http://rss.arxiv.org/atom/cs.CL</id>
  <title>cs.CL updates on arXiv.org</title>
  <entry>
    <id>oai:arXiv.org:2408.10188v1</id>
    <title>LongVILA: Scaling Long-Context Visual Language Models</title>
    <updated>2024-08-20T00:00:00-04:00</updated>
    <link href="https://arxiv.org/abs/2408.10188" rel="alternate" type="text/html"/>
    <summary>arXiv:2408.10188v1 Announce Type: new
Abstract: Long-context capability is critical.</summary>
    <category term="cs.CV"/>
    <published>2024-08-20T00:00:00-04:00</published>
    <arxiv:announce_type>new</arxiv:announce_type>
    <dc:creator>Fuzhao Xue, Yukang Chen and Dacheng Li</dc:creator>
  </entry>
</feed>
"""

RSS2 = """<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">
  <channel>
    <title>cs.LG updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/cs.LG</link>
    <item>
      <title>A Paper From RSS</title>
      <link>https://arxiv.org/abs/2408.00001</link>
      <description>arXiv:2408.00001v2 Announce Type: replace Abstract: Text here.</description>
      <guid isPermaLink="false">oai:arXiv.org:2408.00001v2</guid>
      <category>cs.LG</category>
      <pubDate>Tue, 20 Aug 2024 00:00:00 -0400</pubDate>
      <dc:creator>Alice Smith, Bob Jones</dc:creator>
    </item>
  </channel>
</rss>
"""


def test_api_response():
    result = arxiv_atom.parse(ATOM, "/tmp/query.xml")
    assert detect_format(ATOM) == "arxiv"
    first, old = result.records
    assert first.arxiv_id == "2101.01234"
    assert first.key == "arxiv:2101.01234"
    assert first.extra["arxiv_version"] == "v2"
    assert first.title == "Scaling Things & Stuff: A Study"
    assert first.abstract == "We study things. Code is at https://github.com/ex/things."
    assert first.authors == ["Ada Lovelace", "Jörg Müller"]
    assert first.year == 2021
    assert first.extra["published"] == "2021-01-04T18:00:00Z"
    assert first.extra["updated"] == "2021-02-01T10:00:00Z"
    assert first.extra["categories"] == ["cs.CL", "cs.LG"]
    assert first.extra["primary_category"] == "cs.CL"
    assert first.extra["comment"].startswith("12 pages")
    assert first.extra["pdf_url"] == "http://arxiv.org/pdf/2101.01234v2"
    assert first.doi == "10.1000/xyz.1"
    assert first.venue == "NeurIPS 2021"
    assert first.url == "https://arxiv.org/abs/2101.01234"
    assert first.links == ["https://github.com/ex/things", "https://ex.org/things"]
    assert first.tags == []  # categories are not the user's tags
    assert first.source == "arxiv:query.xml"
    assert first.line == 9  # the line of <entry>
    assert old.arxiv_id == "hep-th/9901001" and old.year == 1999
    assert len(result.problems) == 1
    assert "incorrect id format for 1234" in result.problems[0].message


def test_listing_feeds():
    result = arxiv_atom.parse(RSS_ATOM, "cs.CL.atom")
    (rec,) = result.records
    assert rec.arxiv_id == "2408.10188" and rec.extra["arxiv_version"] == "v1"
    assert rec.abstract == "Long-context capability is critical."
    assert rec.authors == ["Fuzhao Xue", "Yukang Chen", "Dacheng Li"]
    assert rec.year == 2024

    assert detect_format(RSS2) == "arxiv"
    result = arxiv_atom.parse(RSS2, "cs.LG.rss")
    (rec,) = result.records
    assert rec.title == "A Paper From RSS"
    assert rec.arxiv_id == "2408.00001"
    assert rec.abstract == "Text here."
    assert rec.authors == ["Alice Smith", "Bob Jones"]
    assert rec.extra["categories"] == ["cs.LG"]


def test_doctype_and_entities_refused():
    bomb = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2101.00001</id>
<title>&lol2;</title></entry></feed>"""
    result = arxiv_atom.parse(bomb, "bomb.xml")
    assert result.records == []
    assert len(result.problems) == 1
    assert "DOCTYPE" in result.problems[0].message and result.problems[0].line == 2


def test_broken_xml_keeps_entries_before_the_break():
    cut = ATOM.index("<entry>", ATOM.index("hep-th")) + len("<entry>\n    <id>http://arx")
    result = arxiv_atom.parse(ATOM[:cut], "cut.xml")
    assert [r.arxiv_id for r in result.records] == ["2101.01234", "hep-th/9901001"]
    assert len(result.problems) == 1
    assert result.problems[0].line == ATOM[:cut].count("\n") + 1  # where the file ends
    garbage = ATOM.replace("<title>An Old-Style Paper</title>", "<title>An Old <b>Style</title>")
    result = arxiv_atom.parse(garbage, "bad.xml")
    assert [r.arxiv_id for r in result.records] == ["2101.01234"]
    bad_line = garbage[: garbage.index("An Old <b>")].count("\n") + 1
    assert result.problems and result.problems[0].line == bad_line


def test_entry_without_title_is_a_problem():
    text = """<feed xmlns="http://www.w3.org/2005/Atom"><entry>
<id>http://arxiv.org/abs/2101.99999</id><title></title></entry></feed>"""
    result = arxiv_atom.parse(text, "x.xml")
    assert result.records == []
    assert "arXiv:2101.99999" in result.problems[0].message


ID_LIST = """# papers to read
2101.01234v3
https://arxiv.org/abs/2309.00001   # the one from the talk
https://arxiv.org/pdf/2309.00002v1.pdf
https://huggingface.co/papers/2408.10188
hep-th/9901001 the classic, read later
arXiv:2101.01234

not-an-id
"""


def test_id_list():
    assert detect_format(ID_LIST) is not None
    assert arxiv_ids.sniff(ID_LIST) >= 0.5
    result = arxiv_ids.parse(ID_LIST, "/home/me/ids.txt")
    got = [(r.arxiv_id, r.line) for r in result.records]
    assert got == [("2101.01234", 2), ("2309.00001", 3), ("2309.00002", 4), ("2408.10188", 5),
                   ("hep-th/9901001", 6)]  # the repeated 2101.01234 is read once
    first = result.records[0]
    assert first.extra == {"needs_fetch": True, "arxiv_version": "v3"}
    assert first.title == "arXiv:2101.01234"
    assert first.source == "arxiv-ids:ids.txt"
    assert [(p.line, "not-an-id" in p.message) for p in result.problems] == [(9, True)]


def test_id_list_sniff_is_strict():
    assert arxiv_ids.sniff("2101.01234\n2101.01235\n") == 0.9
    assert arxiv_ids.sniff("Attention is all you need\nWe propose a model.\n") == 0.0
    assert arxiv_ids.sniff("See 2101.01234 for details\nand more text\n") == 0.0
    assert detect_format("2101.01234\n") == "arxiv-ids"


def test_extract_id():
    assert arxiv_ids.extract_id("https://export.arxiv.org/abs/2101.01234v2?context=cs") == "2101.01234v2"
    assert arxiv_ids.extract_id("<https://arxiv.org/abs/2101.01234>") == "2101.01234"
    assert arxiv_ids.extract_id("https://huggingface.co/papers/2408.10188") == "2408.10188"
    assert arxiv_ids.extract_id("https://example.com/abs/2101.01234") is None
    assert arxiv_ids.extract_id("21010.1234") is None
