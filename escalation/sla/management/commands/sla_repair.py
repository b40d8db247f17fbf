from django.core.management.base import BaseCommand, CommandError

from escalation.sla.repair import sla_repair
from tickets.models import Ticket, parse_reference


class Command(BaseCommand):
    help = "Recompute SLA records from the timeline, for the given tickets (HD-000123 or 123) or all."

    def add_arguments(self, parser):
        parser.add_argument("tickets", nargs="*", help="Ticket numbers or references; none = every ticket.")

    def handle(self, *args, **options):
        ids = None
        if options["tickets"]:
            ids = []
            for value in options["tickets"]:
                number = parse_reference(value)
                if number is None or not Ticket.objects.filter(pk=number).exists():
                    raise CommandError(f"No ticket {value!r}.")
                ids.append(number)
        total = len(ids) if ids is not None else Ticket.objects.count()
        changed = sla_repair(ticket_ids=ids, stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"Checked the SLA records of {total} tickets against their timelines: {len(changed)} changed "
                "(nothing announced, no priority or escalation changed)."
            )
        )
