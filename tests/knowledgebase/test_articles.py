"""Articles: who sees what, revisions, votes, the list's query budget, the pages."""

import pytest
from django.urls import reverse

from knowledgebase import services
from knowledgebase.models import Article, ArticleRevision, ArticleStatus, ArticleVote
from tickets.errors import InvalidInput, NotAllowed

from ..factories import make_article

pytestmark = pytest.mark.django_db


# ---- visibility


def test_requester_lists_only_published_public_articles(api_for, requester, corpus):
    response = api_for(requester).get("/api/v1/articles/")

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {corpus["password"].pk, corpus["vpn"].pk}


def test_agent_lists_published_and_drafts(api_for, agent, corpus):
    response = api_for(agent).get("/api/v1/articles/")

    assert {row["id"] for row in response.json()["results"]} == {article.pk for article in corpus.values()}


@pytest.mark.parametrize("name", ["draft", "lockout"])
def test_requester_gets_404_for_drafts_and_internal_articles(api_for, requester, client, corpus, name):
    article = corpus[name]

    assert api_for(requester).get(f"/api/v1/articles/{article.pk}/").status_code == 404
    client.force_login(requester)
    assert client.get(reverse("kb:article", args=[article.pk])).status_code == 404


def test_requester_reads_a_public_article_rendered(api_for, requester, corpus):
    response = api_for(requester).get(f"/api/v1/articles/{corpus['vpn'].pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "VPN disconnects every few minutes"
    assert body["category"] == "vpn"
    assert body["tags"] == ["vpn", "globalprotect", "tunnel"]
    assert body["body_html"].startswith("<p>Tunnel drops usually come from Wi-Fi power saving.")


def test_requester_suggestions_and_search_skip_internal_articles(api_for, requester, corpus):
    suggest = api_for(requester).get("/api/v1/articles/suggest/", {"q": "vpn certificate not trusted"})
    search = api_for(requester).get("/api/v1/articles/", {"search": "certificate"})

    assert [row["id"] for row in suggest.json()] == [corpus["vpn"].pk]
    assert search.json()["results"] == []


def test_anonymous_cannot_read_the_knowledge_base(client, corpus):
    assert client.get("/api/v1/articles/").status_code in (401, 403)
    assert client.get(reverse("kb:search")).status_code == 302


def test_requester_cannot_write_articles(requester, client):
    with pytest.raises(NotAllowed):
        make_article(author=requester)
    client.force_login(requester)
    assert client.get(reverse("kb:article-new")).status_code == 403


# ---- revisions


def test_every_save_appends_a_revision(agent, engineer):
    article = make_article(author=agent, title="Map a shared mailbox", body="Outlook adds it automatically. " * 2)

    services.article_update(
        article_id=article.pk, body_markdown="Add it under File › Account settings.", acting_user=engineer
    )
    services.article_update(article_id=article.pk, title="Add a shared mailbox in Outlook", acting_user=agent)

    revisions = list(ArticleRevision.objects.filter(article=article).order_by("number"))
    assert [(r.number, r.title, r.edited_by) for r in revisions] == [
        (1, "Map a shared mailbox", agent),
        (2, "Map a shared mailbox", engineer),
        (3, "Add a shared mailbox in Outlook", agent),
    ]
    assert revisions[1].body_markdown == "Add it under File › Account settings."
    assert revisions[2].body_markdown == "Add it under File › Account settings."


def test_bad_edit_is_refused_field_by_field_and_changes_nothing(agent):
    article = make_article(author=agent)

    with pytest.raises(InvalidInput) as refused:
        services.article_update(article_id=article.pk, title="x", body_markdown="short", acting_user=agent)

    assert set(refused.value.errors) == {"title", "body_markdown"}
    article.refresh_from_db()
    assert article.title == "How to reset your password"
    assert article.revisions.count() == 1


def test_publish_and_unpublish(agent):
    article = make_article(author=agent, publish=False)
    assert article.status == ArticleStatus.DRAFT and article.published_at is None

    services.article_publish(article_id=article.pk, acting_user=agent)
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED and article.published_at is not None

    services.article_publish(article_id=article.pk, publish=False, acting_user=agent)
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT


# ---- votes


def test_votes_count_once_per_user_and_can_change(api_for, agent, requester, other_requester, corpus):
    url = f"/api/v1/articles/{corpus['password'].pk}/vote/"

    api_for(requester).post(url, {"helpful": True})
    api_for(requester).post(url, {"helpful": True})
    api_for(other_requester).post(url, {"helpful": True})
    api_for(other_requester).post(url, {"helpful": False})
    response = api_for(agent).post(url, {"helpful": False})

    assert response.status_code == 200
    assert (response.json()["helpful_yes"], response.json()["helpful_no"]) == (1, 2)
    assert ArticleVote.objects.filter(article=corpus["password"]).count() == 3


def test_vote_needs_a_boolean(api_for, requester, corpus):
    response = api_for(requester).post(f"/api/v1/articles/{corpus['password'].pk}/vote/", {"helpful": "maybe"})

    assert response.status_code == 400
    assert "helpful" in response.json()
    assert ArticleVote.objects.count() == 0


def test_requester_cannot_vote_on_an_article_they_cannot_see(api_for, requester, corpus):
    response = api_for(requester).post(f"/api/v1/articles/{corpus['lockout'].pk}/vote/", {"helpful": True})

    assert response.status_code == 404


def test_vote_button_on_the_page(client, requester, corpus):
    client.force_login(requester)

    client.post(reverse("kb:article-vote", args=[corpus["vpn"].pk]), {"helpful": "yes"})

    corpus["vpn"].refresh_from_db()
    assert corpus["vpn"].helpful_yes == 1


# ---- list query budget


def test_article_list_api_query_budget(api_for, agent, corpus, django_assert_max_num_queries, category, requester):
    from ..factories import make_ticket

    for index in range(15):
        article = make_article(author=agent, title=f"Extra article number {index}", category=category)
        ticket = make_ticket(requester=requester, category=category)
        services.article_link_ticket(article_id=article.pk, ticket_id=ticket.pk, acting_user=agent)
    client = api_for(agent)

    # auth permission lookups + count + page; never one query per article
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/articles/")

    assert response.status_code == 200
    assert response.json()["count"] == Article.objects.count() == 21
    assert {row["solved_ticket_count"] for row in response.json()["results"]} == {0, 1}


# ---- pages


def test_search_page_shows_results_with_snippets(client, agent, corpus):
    client.force_login(agent)

    response = client.get(reverse("kb:search"), {"q": "globalprotect"})

    assert response.status_code == 200
    assert "VPN disconnects every few minutes" in response.content.decode()
    assert "update the GlobalProtect client" in response.content.decode()


def test_article_page_never_serves_injected_script(client, agent):
    article = make_article(
        author=agent, title="Sneaky article body", body="Fine text.\n\n<script>alert(document.cookie)</script>"
    )
    client.force_login(agent)

    html = client.get(reverse("kb:article", args=[article.pk])).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in html


def test_editor_preview_saves_nothing_and_publish_creates(client, agent, category):
    client.force_login(agent)
    data = {
        "title": "Replace a laptop charger",
        "category": category.pk,
        "tags": "hardware, charger",
        "body_markdown": "## Steps\n\n1. Check the LED\n2. Swap the charger",
        "is_public": "on",
    }

    preview = client.post(reverse("kb:article-new"), {**data, "intent": "preview"})
    assert preview.status_code == 200
    assert "<h2>Steps</h2>" in preview.content.decode()
    assert not Article.objects.exists()

    response = client.post(reverse("kb:article-new"), {**data, "intent": "publish"})
    article = Article.objects.get()
    assert response.status_code == 302
    assert (article.status, article.is_public, article.tags, article.author) == (
        "published",
        True,
        "hardware, charger",
        agent,
    )


def test_editor_edit_appends_revision_and_history_lists_it(client, agent):
    article = make_article(author=agent)
    client.force_login(agent)

    client.post(
        reverse("kb:article-edit", args=[article.pk]),
        {
            "title": article.title,
            "body_markdown": "New body with enough words in it.",
            "note": "Clarified",
            "intent": "draft",
        },
    )
    history = client.get(reverse("kb:article-history", args=[article.pk])).content.decode()

    assert article.revisions.count() == 2
    assert "Revision 2" in history and "Clarified" in history
