"""Knowledge-base pages: validate, fetch through the scoped selectors, call one service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tickets import roles
from tickets import selectors as ticket_selectors
from tickets.decorators import agent_required
from tickets.errors import DomainError
from tickets.forms import add_domain_error
from tickets.models import Category
from tickets.redirects import safe_next

from . import selectors, services
from .forms import ArticleForm, SearchForm, StepTickForm
from .models import ArticleStatus, ArticleVote, Playbook, StepOutcome, SuggestionContext
from .rendering import render_markdown

SEARCH_PAGE_LIMIT = 20


def _article_for(user, pk):
    return get_object_or_404(selectors.article_list_with_related(user), pk=pk)


@login_required
@require_GET
def search(request):
    form = SearchForm(request.GET or None)
    hits, recent = [], []
    query = ""
    category = None
    if form.is_valid():
        query = form.cleaned_data["q"] or ""
        category = form.cleaned_data["category"]
    if query.strip():
        hits = selectors.article_search(request.user, query, category=category, limit=SEARCH_PAGE_LIMIT)
    else:
        recent = selectors.article_list_with_related(request.user).filter(status=ArticleStatus.PUBLISHED)
        if category is not None:
            recent = recent.filter(category=category)
        recent = recent[:SEARCH_PAGE_LIMIT]
    drafts = []
    if roles.is_agent(request.user):
        drafts = selectors.article_list_with_related(request.user).filter(status=ArticleStatus.DRAFT)[:10]
    return render(
        request,
        "knowledgebase/search.html",
        {"form": form, "query": query, "hits": hits, "recent": recent, "drafts": drafts},
    )


@login_required
@require_GET
def suggest(request):
    """htmx: the suggestions partial for the text typed so far (intake and escalate forms)."""
    # ?q= (log a call, escalate) or the portal form's own fields as they are typed
    text = (request.GET.get("q") or f"{request.GET.get('title', '')} {request.GET.get('description', '')}")[:2000]
    category = Category.objects.filter(slug=request.GET.get("category") or "").first()
    context = request.GET.get("context") or SuggestionContext.INTAKE
    if context not in SuggestionContext.values:
        context = SuggestionContext.INTAKE
    ticket = None
    if request.GET.get("ticket"):
        ticket = ticket_selectors.ticket_get_for(request.user, request.GET["ticket"])
    hits = selectors.suggest_for_text(request.user, text, category=category) if len(text.strip()) >= 4 else []
    if hits:
        services.suggestion_record(
            articles=[hit.article for hit in hits], context=context, shown_to=request.user, ticket=ticket
        )
        # each link says which showing it came from, so following it is recorded (deflection)
        shown = selectors.latest_showings(
            articles=[hit.article for hit in hits], context=context, shown_to=request.user, ticket=ticket
        )
        for hit in hits:
            hit.shown_id = shown.get(hit.article.pk)
    return render(request, "knowledgebase/_suggestions.html", {"suggestions": hits, "context": context})


@login_required
def article_detail(request, pk):
    article = _article_for(request.user, pk)
    shown = request.GET.get("shown", "")
    if shown.isdigit():
        services.suggestion_opened(shown_id=int(shown), acting_user=request.user)
    my_vote = ArticleVote.objects.filter(article=article, user=request.user).first()
    return render(
        request,
        "knowledgebase/article_detail.html",
        {
            "article": article,
            "body_html": render_markdown(article.body_markdown),
            "my_vote": my_vote,
            "can_edit": roles.is_agent(request.user),
        },
    )


@login_required
@require_POST
def article_vote(request, pk):
    article = _article_for(request.user, pk)
    helpful = request.POST.get("helpful")
    if helpful not in ("yes", "no"):
        messages.error(request, "Choose “yes” or “no”.")
    else:
        try:
            services.article_vote(article_id=article.pk, helpful=helpful == "yes", acting_user=request.user)
            messages.success(request, "Thanks — your answer helps us improve this article.")
        except DomainError as error:
            messages.error(request, error.message)
    return redirect("kb:article", pk=article.pk)


def _editor(request, *, article=None, initial=None, ticket=None, template="knowledgebase/article_form.html"):
    """Create or edit with preview. Buttons: preview, draft (save), publish, unpublish."""
    form = ArticleForm(request.POST if request.method == "POST" else None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        intent = request.POST.get("intent", "draft")
        if intent == "preview":
            preview = render_markdown(data["body_markdown"])
        else:
            try:
                if article is None:
                    article = services.article_create(
                        title=data["title"],
                        body_markdown=data["body_markdown"],
                        category=data["category"],
                        tags=data["tags"],
                        is_public=data["is_public"],
                        publish=intent == "publish",
                        link_ticket=ticket,
                        acting_user=request.user,
                    )
                else:
                    services.article_update(
                        article_id=article.pk,
                        title=data["title"],
                        body_markdown=data["body_markdown"],
                        category=data["category"],
                        tags=data["tags"],
                        is_public=data["is_public"],
                        note=data["note"],
                        acting_user=request.user,
                    )
                    if intent in ("publish", "unpublish"):
                        services.article_publish(
                            article_id=article.pk, publish=intent == "publish", acting_user=request.user
                        )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, "Published." if intent == "publish" else "Saved.")
                return redirect("kb:article", pk=article.pk)
    return render(request, template, {"form": form, "article": article, "preview": preview, "ticket": ticket})


@agent_required
def article_new(request):
    return _editor(request)


@agent_required
def article_edit(request, pk):
    article = _article_for(request.user, pk)
    initial = {
        "title": article.title,
        "category": article.category_id,
        "tags": article.tags,
        "body_markdown": article.body_markdown,
        "is_public": article.is_public,
    }
    return _editor(request, article=article, initial=initial)


@agent_required
def article_history(request, pk):
    article = _article_for(request.user, pk)
    revisions = article.revisions.select_related("edited_by")
    return render(request, "knowledgebase/article_history.html", {"article": article, "revisions": revisions})


@agent_required
def article_from_ticket(request, ticket_id):
    """GET: a draft prefilled from a resolved ticket. POST: create it and link the ticket."""
    ticket = ticket_selectors.ticket_get_for(request.user, ticket_id)
    try:
        draft = services.article_draft_from_ticket(ticket=ticket)
    except DomainError as error:
        return render(
            request, "knowledgebase/article_from_ticket_refused.html", {"ticket": ticket, "error": error}, status=409
        )
    initial = {
        "title": draft.title,
        "category": draft.category.pk if draft.category else None,
        "tags": draft.tags,
        "body_markdown": draft.body_markdown,
        "is_public": False,
    }
    return _editor(request, initial=initial, ticket=ticket)


@agent_required
def playbook_list(request):
    playbooks = selectors.playbook_list_for(request.user)
    return render(request, "knowledgebase/playbook_list.html", {"playbooks": playbooks})


@agent_required
def playbook_detail(request, pk):
    playbook = get_object_or_404(
        Playbook.objects.select_related("category").prefetch_related("steps"), pk=pk, is_active=True
    )
    return render(request, "knowledgebase/playbook_detail.html", {"playbook": playbook})


def _playbook_context(request, ticket, step_errors=None):
    playbooks = selectors.ticket_playbooks(ticket=ticket)
    for state in (s for playbook in playbooks for s in playbook.steps):
        state.errors = (step_errors or {}).get(state.step.pk, [])
    return {
        "ticket": ticket,
        "playbooks": playbooks,
        "outcomes": StepOutcome.choices,
        "step_errors": step_errors or {},
        "next": request.POST.get("next") or request.GET.get("next") or "",
    }


@agent_required
@require_GET
def ticket_playbook(request, ticket_id):
    ticket = ticket_selectors.ticket_get_for(request.user, ticket_id)
    context = _playbook_context(request, ticket)
    template = "knowledgebase/_ticket_playbook.html" if request.htmx else "knowledgebase/ticket_playbook.html"
    return render(request, template, context)


@agent_required
@require_POST
def ticket_step_tick(request, ticket_id, step_id):
    ticket = ticket_selectors.ticket_get_for(request.user, ticket_id)
    form = StepTickForm(request.POST)
    if form.is_valid():
        try:
            services.playbook_step_record(
                ticket_id=ticket.pk,
                step_id=step_id,
                outcome=form.cleaned_data["outcome"],
                result=form.cleaned_data["result"],
                acting_user=request.user,
            )
        except DomainError as error:
            add_domain_error(form, error)
    errors = [message for problems in form.errors.values() for message in problems]
    if request.htmx:
        context = _playbook_context(request, ticket, step_errors={step_id: errors} if errors else None)
        return render(request, "knowledgebase/_ticket_playbook.html", context, status=400 if errors else 200)
    for message in errors:
        messages.error(request, message)
    if not errors:
        messages.success(request, "Step recorded.")
    return redirect(safe_next(request, reverse("kb:ticket-playbook", args=[ticket.pk])))
