"""Roles are Django groups carrying permissions; code asks about permissions."""

from django.db.models import Q

from .models import Queue, User

REQUESTER = "Requester"
TIER1_AGENT = "Tier 1 agent"
TIER2_ENGINEER = "Tier 2 engineer"
SECURITY_ENGINEER = "Security engineer"
MANAGER = "Manager"
ADMIN = "Admin"

# group → permission codenames (app label "tickets" unless dotted)
ROLE_PERMISSIONS: dict[str, list[str]] = {
    REQUESTER: [],
    TIER1_AGENT: ["work_tickets", "escalate_ticket"],
    TIER2_ENGINEER: ["work_tickets", "escalate_ticket", "work_tier2"],
    SECURITY_ENGINEER: ["work_tickets", "escalate_ticket", "work_tier2", "view_restricted_ticket"],
    MANAGER: ["work_tickets", "escalate_ticket", "work_tier2", "override_priority", "view_dashboard"],
    ADMIN: [
        "work_tickets",
        "escalate_ticket",
        "work_tier2",
        "override_priority",
        "view_dashboard",
        "view_restricted_ticket",
    ],
}


def is_agent(user: User) -> bool:
    return user.is_authenticated and user.has_perm("tickets.work_tickets")


def is_tier2(user: User) -> bool:
    return user.is_authenticated and user.has_perm("tickets.work_tier2")


def can_see_restricted(user: User) -> bool:
    return user.is_authenticated and user.has_perm("tickets.view_restricted_ticket")


def is_security_team(user: User) -> bool:
    """Cleared for security tickets and a member or lead of a security team: their call to lift a restriction."""
    return (
        can_see_restricted(user)
        and Queue.objects.filter(is_security=True).filter(Q(members=user) | Q(lead=user)).exists()
    )


def can_override_priority(user: User) -> bool:
    """Managers and admins hold the permission; a team's lead may too (leading a team grants it)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.has_perm("tickets.override_priority") or Queue.objects.filter(lead=user).exists()


def can_view_dashboard(user: User) -> bool:
    return user.is_authenticated and user.has_perm("tickets.view_dashboard")


def ensure_role_groups(**kwargs) -> None:
    """Create the role groups with their permissions (idempotent; runs after migrate)."""
    from django.contrib.auth.models import Group, Permission

    for group_name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = Permission.objects.filter(content_type__app_label="tickets", codename__in=codenames)
        group.permissions.add(*wanted)
