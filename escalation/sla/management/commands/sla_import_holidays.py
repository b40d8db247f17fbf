from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from escalation.sla.calendars import holidays_import
from escalation.sla.models import Calendar
from tickets.errors import InvalidInput


class Command(BaseCommand):
    help = "Import a country's public holidays for a year into a business-hours calendar."

    def add_arguments(self, parser):
        parser.add_argument("calendar", help="Calendar name.")
        parser.add_argument("--country", help="ISO 3166 code (default: the calendar's country).")
        parser.add_argument("--year", type=int, default=None, help="Default: this year.")
        parser.add_argument("--subdivision", default=None, help="State/region code, e.g. NY or ENG.")

    def handle(self, *args, **options):
        calendar = Calendar.objects.filter(name=options["calendar"]).first()
        if calendar is None:
            raise CommandError(f"No calendar named {options['calendar']!r}.")
        country = options["country"] or calendar.country
        if not country:
            raise CommandError("Give --country (the calendar has none).")
        year = options["year"] or timezone.now().year
        try:
            added = holidays_import(calendar=calendar, country=country, year=year, subdivision=options["subdivision"])
        except InvalidInput as error:
            raise CommandError("; ".join(m for msgs in error.errors.values() for m in msgs))
        self.stdout.write(self.style.SUCCESS(f"Added {added} holidays ({country} {year}) to {calendar}."))
