from django.core.management.base import BaseCommand, CommandError

from tickets.notifications import inbound


class Command(BaseCommand):
    help = "Read unread mail (IMAP from INBOUND_IMAP_* settings, or a maildir) into tickets and replies."

    def add_arguments(self, parser):
        parser.add_argument("--maildir", help="Read this maildir instead of the IMAP mailbox.")

    def handle(self, *args, **options):
        try:
            source = inbound.MaildirSource(options["maildir"]) if options["maildir"] else inbound.source_from_settings()
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc))
        counts = inbound.fetch_mail(source)
        if not counts:
            self.stdout.write("No new mail.")
        for outcome, count in sorted(counts.items()):
            self.stdout.write(f"{outcome}: {count}")
