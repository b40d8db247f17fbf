"""The bench's peak RSS of a process it starts is that process's own, not the bench's.

Linux carries ru_maxrss over fork and exec: a child started by a big process reports (through
`wait4`, or its own getrusage) at least its parent's peak. The bench measured the sweep worker
that way after seeding 1M tickets and the what-if in its own process, and reported 949 MB for a
sweep that peaked at ~125 MB.
"""

import os
import subprocess
import sys

from bench.run import ROOT, run_with_own_peak_rss

MB = 1024 * 1024


def test_a_small_child_of_a_big_process_reports_its_own_small_peak(tmp_path):
    ballast = bytearray(400 * MB)
    for offset in range(0, len(ballast), 4096):  # resident, not just reserved
        ballast[offset] = 1
    script = tmp_path / "small.py"
    script.write_text("import sys\nprint('done', sys.argv[1:])\n")

    status, output, peak_mb = run_with_own_peak_rss([str(script), "a", "b"], cwd=ROOT, env=dict(os.environ))

    assert status == 0
    assert output == "done ['a', 'b']\n"  # the script's own output and arguments, the measure's line taken out
    assert peak_mb < 100
    # What the bench read before: the child "peaked" at the parent's 400 MB.
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(process.pid, 0)
    assert usage.ru_maxrss / 1024 >= 400
    del ballast


def test_a_child_that_grows_reports_its_peak_and_its_exit_status(tmp_path):
    script = tmp_path / "big.py"
    script.write_text(
        "import sys\n"
        "ballast = bytearray(300 * 1024 * 1024)\n"
        "for offset in range(0, len(ballast), 4096):\n"
        "    ballast[offset] = 1\n"
        "del ballast\n"
        "sys.exit(3)\n"
    )

    status, output, peak_mb = run_with_own_peak_rss([str(script)], cwd=ROOT, env=dict(os.environ))

    assert status == 3
    assert output == ""
    assert 300 <= peak_mb < 400
