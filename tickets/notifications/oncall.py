"""Who is on call for a team. SCAFFOLD — the notifications work (issue 8) implements rotations."""


def on_call_for(*, queue, at):
    """The engineer on call for this queue at this instant, or None."""
    return None
