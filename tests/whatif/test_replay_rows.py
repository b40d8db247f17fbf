"""The what-if replays from rows (tickets, events and live records read with values_list, records built
in memory): it must give exactly what the engine gives from model instances, and choose each ticket's
policy exactly as live operation does."""

import time_machine

from escalation.sla import engine
from escalation.sla.models import SlaPolicy, SlaRecord
from escalation.sla.services import RecordInMemory
from escalation.whatif.replay import Draft, DraftPolicies, TicketRow
from tests.dashboard.conftest import NOW
from tests.factories import UserFactory, make_ticket
from tickets import roles
from tickets.models import Channel, Ticket

FIELDS = [f.attname for f in SlaRecord._meta.concrete_fields if f.attname != "id"]


def as_values(records):
    return sorted((tuple(getattr(record, name) for name in FIELDS) for record in records), key=lambda row: repr(row))


def test_rows_and_records_in_memory_replay_to_what_the_models_give(week):
    """Every field of every replayed record, for the week's eight histories (pauses, escalations, a
    return, an automatic escalation, a reopen, a site of its own), by both paths."""
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    lookups = engine.Lookups(preload=True)
    timelines = engine.timelines(ids)
    rows = {row.pk: row for row in TicketRow.load(ids, lookups)}
    assert len(ids) == 8
    for ticket in Ticket.objects.select_related("requester", "site", "category"):
        from_models = engine.replay(ticket=ticket, sweep_until=NOW, plans=False)
        from_rows = engine.replay(
            ticket=rows[ticket.pk],
            timeline=timelines[ticket.pk],
            lookups=lookups,
            sweep_until=NOW,
            plans=False,
            record_type=RecordInMemory,
        )
        assert all(type(r) is SlaRecord for r in from_models.records)
        assert all(type(r) is RecordInMemory for r in from_rows.records)
        assert as_values(from_rows.records) == as_values(from_models.records), ticket.title
        assert from_rows.records, ticket.title


def test_a_ticket_row_reads_as_its_ticket(week):
    ticket = Ticket.objects.exclude(site=None).select_related("site", "category", "requester").first()
    row = TicketRow.load([ticket.pk], engine.Lookups())[0]
    assert (row.reference, row.title, row.priority, row.status, row.tier) == (
        ticket.reference,
        ticket.title,
        ticket.priority,
        ticket.status,
        ticket.tier,
    )
    assert (row.site.slug, row.category.slug) == (ticket.site.slug, ticket.category.slug)
    row.site = None
    assert row.site_id is None and ticket.site_id is not None  # the replay's copy, never the ticket


def test_the_policy_is_chosen_as_live_restriction_and_the_vip_rule_included(db, requester, agent, category, site):
    """Tickets alike in priority, category and site: one restricted, one from a VIP logged by an agent,
    one from the same VIP by unlogged mail (which proves only a From header, so no VIP policy)."""
    default = SlaPolicy.objects.create(name="Default", is_default=True, position=100, resolution_minutes=480)
    security = SlaPolicy.objects.create(name="Security", security=True, position=1, resolution_minutes=60)
    vip = SlaPolicy.objects.create(name="VIP", requester_is_vip=True, position=2, resolution_minutes=120)
    boss = UserFactory(username="boss", is_vip=True, site=site, role=roles.REQUESTER)
    with time_machine.travel(NOW, tick=False):
        plain = make_ticket(requester=requester, category=category, acting_user=agent)
        restricted = make_ticket(requester=requester, category=category, acting_user=agent)
        vip_logged = make_ticket(requester=boss, category=category, acting_user=agent, channel=Channel.PHONE)
        vip_mailed = make_ticket(requester=boss, category=category, acting_user=agent, channel=Channel.EMAIL)
    Ticket.objects.filter(pk=restricted.pk).update(is_restricted=True)
    Ticket.objects.filter(pk=vip_mailed.pk).update(created_by=None)
    Ticket.objects.update(priority="P3", site=site)
    ordered = [plain.pk, restricted.pk, vip_logged.pk, vip_mailed.pk]
    rows = {row.pk: row for row in TicketRow.load(ordered, engine.Lookups())}
    policies = DraftPolicies(Draft())
    chosen = [policies(rows[pk]).name for pk in ordered]  # in this order: the first fills the cache
    assert chosen == [default.name, security.name, vip.name, default.name]
