import time

from django.core.management.base import BaseCommand

from escalation.sla.sweep import BATCH_SIZE, sla_sweep


class Command(BaseCommand):
    help = "Run one SLA sweep now (fire due ladder levels, mark breaches, auto-escalate) and print what it did."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, **options):
        started = time.perf_counter()
        report = sla_sweep(batch_size=options["batch_size"])
        elapsed = time.perf_counter() - started
        self.stdout.write(f"SLA sweep: {report}")
        # The sweep's own time, without the process's start-up (imports, settings): what a
        # long-running worker pays per sweep. bench/run.py reads this line.
        self.stdout.write(f"  took {elapsed:.2f} s")
        for ticket_id in report.escalated_ticket_ids:
            self.stdout.write(f"  escalated HD-{ticket_id:06d} (time exceeded)")
