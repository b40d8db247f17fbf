"""SLA what-if (issue 15): replay a period's tickets under a draft policy before changing it.

- replay.py    the draft, the policies it stands for, and the replay through the SLA engine's step().
- figures.py   current (the dashboard's functions) and proposed (the same definitions in memory), flips.
- services.py  one what-if, inline or as a WhatIfRun a worker computes (tasks.py) with progress.
- apis.py, views.py: POST /api/v1/metrics/sla/what-if/ and /dashboard/what-if/.
"""
