import importlib

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tickets import demo

# Each app adds its part of the demo in <app>/demo.py:
#   seed_configuration(org) — reference data (paths, SLA policies, articles, rosters)
#   seed_activity(org)      — what happens to the seeded tickets (escalations, …)
#   seed_bulk(count)        — optional, records for bulk tickets (--tickets)
DEMO_MODULES = ["escalation.sla.demo", "escalation.demo", "knowledgebase.demo", "tickets.notifications.demo"]


class Command(BaseCommand):
    help = "Create the demo organization (users, teams, categories, policies, articles, tickets)."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=0, help="Also bulk-create N historical tickets (fast).")
        parser.add_argument("--demo-tickets", type=int, default=300, help="Tickets walked through the real workflow.")

    def handle(self, *args, **options):
        if options["tickets"] < 0 or options["demo_tickets"] < 0:
            raise CommandError("Ticket counts cannot be negative.")
        if demo.database_has_real_data():
            raise CommandError(
                "This database already holds users or tickets; seed_demo only fills an empty database. "
                "Use a fresh database (or run `python manage.py flush` first if this data is disposable)."
            )
        modules = [importlib.import_module(name) for name in DEMO_MODULES]
        with transaction.atomic():
            org = demo.seed_organization()
            for module in modules:
                if hasattr(module, "seed_configuration"):
                    module.seed_configuration(org)
        self.stdout.write(f"Organization ready; walking {options['demo_tickets']} tickets through the workflow…")
        demo.seed_tickets(org, count=options["demo_tickets"])
        for module in modules:
            if hasattr(module, "seed_activity"):
                module.seed_activity(org)
        # Every step above ran after the SLA sweep had caught up to it; this plays the sweep on to now,
        # so the history's breaches are those production would have recorded (and a what-if replay finds).
        escalated = demo.sweep_history(org)
        self.stdout.write(f"SLA sweep played on to now ({escalated} more tickets escalated automatically).")
        if options["tickets"]:
            self.stdout.write(f"Bulk-creating {options['tickets']} historical tickets…")
            demo.bulk_tickets(org, count=options["tickets"], stdout=self.stdout)
            for module in modules:
                if hasattr(module, "seed_bulk"):
                    module.seed_bulk(count=options["tickets"])
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with:"))
        for username, _first, _last, groups, _site, _extra in demo.PEOPLE:
            self.stdout.write(f"  {username:<12} password: {demo.DEMO_PASSWORD:<6} {', '.join(groups)}")
