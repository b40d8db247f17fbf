"""Full-text search: the right article first, on PostgreSQL and with the SQLite fallback."""

import pytest

from knowledgebase import selectors
from knowledgebase.models import Article

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("forgotten password", "password"),
        ("vpn keeps disconnecting", "vpn"),
        ("certificate not trusted", "certificate"),
        ("550 bounce", "bounce"),
        ("account locked", "lockout"),
    ],
)
def test_postgres_search_puts_the_right_article_first(agent, corpus, query, expected):
    hits = selectors.article_search(agent, query)

    assert hits, f"nothing found for {query!r}"
    assert hits[0].article == corpus[expected]


@pytest.mark.postgres
def test_title_match_outranks_a_body_only_match(agent, corpus):
    # "certificate" is in the title of one VPN article and nowhere in the other.
    hits = selectors.article_search(agent, "certificate")

    assert [hit.article for hit in hits] == [corpus["certificate"]]


@pytest.mark.postgres
def test_search_vector_follows_edits(agent, corpus):
    from knowledgebase import services

    services.article_update(
        article_id=corpus["bounce"].pk, body_markdown="Rewritten: check the DKIM selector records.", acting_user=agent
    )

    assert [hit.article for hit in selectors.article_search(agent, "dkim selector")] == [corpus["bounce"]]
    assert selectors.article_search(agent, "allow list spf") == []


def test_search_never_returns_drafts(agent, corpus):
    found = [hit.article for hit in selectors.article_search(agent, "split tunnelling teams media")]

    assert corpus["draft"] not in found


def test_empty_or_stop_word_query_finds_nothing(agent, corpus):
    assert selectors.article_search(agent, "") == []
    assert selectors.article_search(agent, "the and of") == []


def test_snippet_shows_text_around_the_match(agent, corpus):
    hits = selectors.suggest_for_text(agent, "globalprotect")

    assert hits[0].article == corpus["vpn"]
    assert "GlobalProtect" in hits[0].snippet
    assert "<" not in hits[0].snippet


# ---- the SQLite fallback's logic, exercised directly (it runs on any database)


def test_query_terms_drop_stop_words_and_duplicates():
    assert selectors.query_terms("My VPN keeps disconnecting, the VPN!") == ["vpn", "disconnecting"]


def test_stem_strips_common_suffixes_but_not_short_words():
    assert selectors.stem("disconnects") == "disconnect"
    assert selectors.stem("bounced") == "bounc"
    assert selectors.stem("vpn") == "vpn"
    assert selectors.stem("dns") == "dns"


def test_fallback_score_weights_title_over_tags_over_body():
    # "vpn" in title (3) + tags (2) + body (1) = 6; "certificate" in title and body = 4 → 10
    assert selectors.fallback_score(
        terms=["vpn", "certificate"],
        title="VPN certificate not trusted",
        tags="vpn",
        body="The certificate is missing on the VPN gateway",
    ) == (3 + 2 + 1) + (3 + 1)
    assert selectors.fallback_score(terms=["printer"], title="VPN", tags="", body="") == 0


def test_fallback_search_ranks_by_matching_terms(agent, corpus):
    published = Article.objects.filter(status="published")

    ranked = selectors._fallback_search(
        published, selectors.query_terms("vpn certificate error"), boost_category=None, limit=5
    )

    # certificate article: vpn title+tags 3+2, certificate title+tags+body 3+2+1, error body 1 = 12
    # vpn article: vpn title+tags 3+2 = 5 (its body never says "vpn")
    assert [(article, score) for article, score in ranked] == [(corpus["certificate"], 12.0), (corpus["vpn"], 5.0)]


def test_fallback_search_finds_inflected_words(agent, corpus):
    published = Article.objects.filter(status="published")

    ranked = selectors._fallback_search(published, ["disconnecting"], boost_category=None, limit=5)

    assert [article for article, _ in ranked] == [corpus["vpn"]]
