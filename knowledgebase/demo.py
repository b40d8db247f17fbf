"""This app's part of the demo organization (see tickets/management/commands/seed_demo.py).

seed_configuration: published articles and playbooks for the demo categories.
seed_activity: playbook steps ticked on open tickets, articles linked to resolved ones, votes.
"""

from tickets.models import TicketStatus

from . import services
from .models import Article, Playbook, PlaybookStep, StepOutcome

# (category slug, author, public?, title, tags, body)
ARTICLES = [
    (
        "account-access",
        "agent1",
        True,
        "Locked out of your account",
        "lockout, locked out, account locked, sign-in, unlock",
        """Your account locks after **10 wrong passwords in 15 minutes**, often because a phone or an old
laptop keeps trying an old password.

## What to do

1. **Wait 30 minutes**: the lock lifts by itself.
2. Then sign in once, carefully, on one device.
3. If you changed your password recently, update it on your phone's mail app too.
4. Still locked, or you need in now? Call the Service Desk on **+44 20 7946 0100**; we unlock it while you wait.
""",
    ),
    (
        "vpn",
        "agent1",
        True,
        "VPN error 809: the connection could not be established",
        "vpn, error 809, 809, globalprotect, firewall",
        """**Error 809** means the VPN server could not be reached: something between you and us blocks it.

## Try in this order

1. Switch networks: hotel and guest Wi-Fi often block VPN. Try your phone's hotspot.
2. Restart the GlobalProtect client (right-click the icon › *Disable*, then *Enable*).
3. At home, restart the router and turn off *SIP ALG* or "game acceleration" features.

Still error 809 on two different networks? Tell us which networks you tried when you ask for help.
""",
    ),
    (
        "password-reset",
        "agent1",
        True,
        "Reset your password with self-service",
        "password, self-service, sspr",
        """You can reset a forgotten or expired password yourself, day or night.

## Steps

1. Open [the reset portal](https://passwordreset.handoff.example) from any browser (your phone works too).
2. Enter your work e-mail address and complete the verification (authenticator app or text message).
3. Choose a new password: **at least 14 characters**, not used in the last 12 months.
4. Sign in again on your laptop *while connected to the office network or VPN*, so it learns the new password.

## If the portal says you are "not eligible"

You have not registered a verification method yet. Call the Service Desk on **+44 20 7946 0100**;
we verify who you are and reset it with you on the line.

> Tip: update the password on your phone's mail app too, or it keeps trying the old one and locks your account.
""",
    ),
    (
        "password-reset",
        "agent1",
        False,
        "Reset email or text never arrives",
        "password, sspr, verification",
        """When the self-service reset code does not arrive:

- Check the **Junk** folder and any mail rules that move messages.
- Confirm the phone number in the directory: `Get-MgUser -UserId alex@handoff.example -Property mobilePhone`.
- Codes expire after **10 minutes**; requesting several invalidates the earlier ones — use the latest.
- Carrier filtering: some prepaid SIMs block short codes. Offer the authenticator app instead.

If none of that helps, reset the password for the user after verifying identity
(call-back to the number in the HR system, never the number the caller gives you).
""",
    ),
    (
        "account-access",
        "engineer1",
        False,
        "Unlock an account locked after failed sign-ins",
        "lockout, account, directory",
        """Accounts lock after **10 failed sign-ins in 15 minutes** and unlock by themselves after 30 minutes.

## Find out why it locked

```powershell
Get-ADUser alex.morgan -Properties LockedOut, BadLogonCount, LastBadPasswordAttempt
# Which machine sent the bad passwords (run on the PDC emulator):
Get-WinEvent -FilterHashtable @{LogName='Security'; Id=4740} -MaxEvents 20 |
  Where-Object { $_.Properties[0].Value -eq 'alex.morgan' } | Format-List TimeCreated, Message
```

The *Caller Computer Name* is usually an old phone, a mapped drive with saved credentials, or a
scheduled task running as the user.

## Fix

1. Remove or update the stale credential at the source (phone mail profile, Credential Manager).
2. Unlock: `Unlock-ADAccount alex.morgan`.
3. Ask the user to sign in once while you watch `BadLogonCount` stay at 0.

Escalate to Identity & Access only if the lockouts come from an unknown source or many accounts lock at once.
""",
    ),
    (
        "account-access",
        "engineer1",
        True,
        "Set up multi-factor authentication again on a new phone",
        "mfa, authenticator, new phone",
        """Moved to a new phone? Register it before you wipe the old one.

1. Go to **My Sign-ins › Security info** at [mysignins.handoff.example](https://mysignins.handoff.example).
2. Choose **Add sign-in method › Authenticator app** and scan the QR code with the new phone.
3. Approve the test notification, then **delete** the old phone from the list.

Lost the old phone already? Call the Service Desk: after checking your identity we issue a
**temporary access pass** valid for one hour so you can register the new phone.

*Never approve a sign-in request you did not start* — report it as a security incident instead.
""",
    ),
    (
        "vpn",
        "engineer1",
        True,
        "VPN disconnects every few minutes",
        "vpn, globalprotect, disconnect, wi-fi",
        """If GlobalProtect connects but drops every few minutes:

1. **Wi-Fi power saving**: Settings › Network › Wi-Fi › Hardware properties › turn off *Allow the computer to turn off this device*.
2. **Update the client** to the version the portal offers (Help › About shows yours).
3. Switch the gateway from *Best available* to the nearest one (London, New York or Singapore).
4. On home routers, disable *SIP ALG* and any "game acceleration" features.

Still dropping? Collect the logs before calling us:

```text
GlobalProtect › Settings › Troubleshooting › Collect Logs
```

and attach the zip to your ticket.
""",
    ),
    (
        "vpn",
        "engineer1",
        False,
        "VPN certificate not trusted",
        "vpn, certificate, root ca",
        """The error `The server certificate is not trusted` means the laptop lacks our current root CA.

## One laptop

```powershell
certutil -store Root | Select-String "Handoff Root CA 2026"
```

If missing, force a policy refresh on the VPN-less fallback (office Wi-Fi or a tethered phone):
`gpupdate /force`, then reboot.

## A whole site

Usually the MDM profile did not deploy the renewed CA. Check the Intune device configuration
report for *Handoff Root CA 2026*; escalate to **Network** with the report attached.
""",
    ),
    (
        "email",
        "agent1",
        True,
        "Add a shared mailbox in Outlook",
        "email, shared mailbox, outlook",
        """Shared mailboxes you have access to appear in Outlook automatically within an hour.

If one is missing or disappeared:

1. Close Outlook completely and open it again.
2. Outlook on the web: right-click **Folders › Add shared folder or mailbox** and type the address.
3. Desktop Outlook: **File › Account Settings › Account Settings › Change › More Settings › Advanced › Add**.

You still cannot open it? Your access may have been removed when you changed team — ask the
mailbox owner to request access for you in the portal.
""",
    ),
    (
        "email",
        "agent1",
        False,
        "Mail to a partner bounces with 550 5.7.1",
        "email, bounce, ndr, smtp",
        """A `550 5.7.1` bounce means the receiving server **refused** our message.

## Read the bounce

| Text in the NDR | Likely cause |
|---|---|
| `Sender not authorized` | The partner allow-lists senders; ask them to add our domain |
| `SPF validation failed` | Someone sends as us from an unlisted service |
| `Message rejected as spam` | Content or reputation; check our listing |

## Check our side

```bash
dig +short txt handoff.example | grep spf
```

Check the sending IP on [MXToolbox](https://mxtoolbox.com/blacklists.aspx). Collect the full NDR
(headers included) before escalating to **Applications**.
""",
    ),
    (
        "hardware",
        "agent1",
        True,
        "Printer jams on double-sided jobs",
        "printer, jam, duplex",
        """Frequent jams, especially when printing double-sided:

1. Open every door the display shows and remove paper **in the direction it travels** — never pull backwards.
2. Fan the paper stack and reload it; damp or curled paper causes most duplex jams.
3. Check the paper type setting matches the tray (80 g/m² plain).
4. Clean the pickup rollers with a lint-free cloth, slightly damp.

If it still jams, note the **error code** on the display (for example `13.B2.D1`) and
log a ticket with the printer's asset tag.
""",
    ),
    (
        "hardware",
        "agent1",
        True,
        "Laptop will not charge",
        "laptop, charger, battery, power",
        """If your laptop does not charge:

1. Try a different wall socket, then a colleague's charger of the **same wattage** (65 W or 90 W).
2. Look at the USB-C port: lint blocks contact. Do not use metal to clean it.
3. Shut down, unplug, hold the power button for 15 seconds, plug in and start again.
4. Check the battery report: `powercfg /batteryreport` (opens `battery-report.html`).

Light still off with two chargers? It is a hardware fault: log a ticket and we swap the laptop
(your files in OneDrive come with you).
""",
    ),
    (
        "software-install",
        "agent1",
        True,
        "Request new software",
        "software, install, company portal",
        """Most approved software installs itself from **Company Portal** — no ticket needed.

1. Open *Company Portal* from the Start menu.
2. Search for the app (Power BI Desktop, Zoom, Visual Studio Code, 7-Zip …) and click **Install**.
3. Installation runs in the background; you get a notification when done.

Not in Company Portal? Log a *Software install* ticket with the product name, the version, the
business reason and your manager's approval. Licensed software needs a cost centre.
""",
    ),
    (
        "software-install",
        "engineer1",
        False,
        "Company Portal install stuck at 'Downloading'",
        "software, intune, company portal",
        """When an install sits at *Downloading* or *Pending* for over an hour:

- Confirm the device checked in recently (Company Portal › Devices › Check status).
- Restart the **Microsoft Intune Management Extension** service.
- Read the log: `C:\\ProgramData\\Microsoft\\IntuneManagementExtension\\Logs\\IntuneManagementExtension.log`
  and search for the app's ID.

Error `0x87D1041C` means the detection rule did not find the app after install — escalate to
**Applications** with the log excerpt.
""",
    ),
    (
        "security-incident",
        "agent1",
        True,
        "I clicked a phishing link: first steps",
        "phishing, security, incident",
        """Act quickly — minutes matter. You are not in trouble for reporting.

1. **Disconnect** from the network (turn off Wi-Fi or unplug the cable). Do not shut down.
2. If you typed your password, **change it now** from another device at the reset portal.
3. Report the message with the **Report phishing** button in Outlook.
4. Call the Service Desk on **+44 20 7946 0100** and say "security incident".

Do not forward the email to colleagues, and do not delete it: the Security team needs it.
""",
    ),
    (
        "security-incident",
        "engineer1",
        False,
        "Security incident: Tier 1 first response",
        "security, incident, triage, phishing",
        """For any suspected compromise, Tier 1 does only these steps, then escalates with the
**security concern** trigger (it goes straight to Security, restricted, at least P2):

1. Record the exact time, the user, the device name and what the user saw (verbatim).
2. Ask the user to disconnect from the network; do **not** reimage or wipe anything.
3. Revoke sessions: `Revoke-MgUserSignInSession -UserId <upn>`.
4. Reset the password if credentials were entered.
5. Attach the phishing message as `.eml` (Outlook: *Save as*).

Never investigate further yourself: forensic evidence is easily destroyed.
""",
    ),
]

# (category slug, name, description, required_for_triggers, [(instruction, expected outcome), …])
PLAYBOOKS = [
    (
        "password-reset",
        "Password reset checks",
        "Before resetting: who is calling, and why the self-service path failed.",
        [],
        [
            (
                "Verify identity with a call-back to the number in the HR system",
                "Caller confirmed as the account owner",
            ),
            ("Check whether a verification method is registered", "Method registered or user guided to register"),
            ("Reset the password and have the user sign in while on the line", "User signs in with the new password"),
            ("Remind the user to update the password on their phone", "Phone mail app updated"),
        ],
    ),
    (
        "account-access",
        "Account access checks",
        "Locked accounts, MFA and sign-in loops. Required before escalating as a complexity limit.",
        ["complexity_limit"],
        [
            ("Check the account lock state and bad password count", "Lock state and last bad attempt known"),
            ("Find the lockout source (event 4740 caller computer)", "Source device identified"),
            ("Confirm MFA methods are registered and working", "At least one working method"),
            ("Reproduce the sign-in in a private browser window", "Exact error message captured"),
            ("Check group membership for the requested access", "Missing group named"),
        ],
    ),
    (
        "vpn",
        "VPN troubleshooting",
        "Remote access problems for one user.",
        [],
        [
            ("Confirm internet access without the VPN", "Websites load"),
            ("Check the GlobalProtect client version", "Current version installed"),
            ("Switch to the nearest gateway", "Tunnel connects"),
            ("Disable Wi-Fi power saving", "No drops for 15 minutes"),
            ("Collect GlobalProtect logs and attach them", "Log zip attached"),
        ],
    ),
    (
        "email",
        "Email delivery checks",
        "Missing mail, bounces and shared mailboxes.",
        [],
        [
            ("Check Junk and inbox rules", "No rule moves the mail"),
            ("Run a message trace for the sender and time", "Trace result recorded"),
            ("Read the full bounce (NDR) and note the status code", "Status code recorded verbatim"),
        ],
    ),
    (
        "hardware",
        "Hardware first checks",
        "Laptops, docks, printers.",
        [],
        [
            ("Try a known-good charger, cable or dock", "Fault follows the device"),
            ("Hard reset (hold power 15 seconds)", "Device starts or shows an error"),
            ("Record the asset tag and error code", "Asset tag and code on the ticket"),
        ],
    ),
    (
        "software-install",
        "Software install request",
        "Approved software goes through Company Portal.",
        [],
        [
            ("Check whether the app is in Company Portal", "User installs it themselves"),
            ("Confirm manager approval and licence cost centre", "Approval attached"),
            ("Check the device is compliant and checked in", "Device checked in within 24 hours"),
        ],
    ),
    (
        "security-incident",
        "Security incident first response",
        "Contain, preserve evidence, escalate. Never investigate further in Tier 1.",
        [],
        [
            ("Record time, user, device and what they saw, verbatim", "Facts on the ticket"),
            ("Ask the user to disconnect from the network", "Device offline"),
            ("Revoke the user's sign-in sessions", "Sessions revoked"),
            ("Reset the password if credentials were entered", "Password reset"),
            ("Attach the suspicious message as .eml", "Message attached"),
        ],
    ),
]

RESULTS = {
    StepOutcome.SUCCEEDED: "Done; as expected.",
    StepOutcome.FAILED: "Did not help; same error as before.",
    StepOutcome.SKIPPED: "Not relevant for this user.",
}


def seed_configuration(org) -> None:
    for slug, author, public, title, tags, body in ARTICLES:
        services.article_create(
            title=title,
            body_markdown=body.strip() + "\n",
            category=org.categories[slug],
            tags=tags,
            is_public=public,
            publish=True,
            acting_user=org.users[author],
        )
    for slug, name, description, triggers, steps in PLAYBOOKS:
        playbook = Playbook.objects.create(
            category=org.categories[slug], name=name, description=description, required_for_triggers=triggers
        )
        PlaybookStep.objects.bulk_create(
            PlaybookStep(playbook=playbook, position=n, instruction=instruction, expected_outcome=expected)
            for n, (instruction, expected) in enumerate(steps, start=1)
        )


def seed_activity(org) -> None:
    """Tick steps on some open tickets, link articles to resolved ones, and vote."""
    rng = org.rng
    agent = org.users["agent1"]
    playbooks = {p.category_id: list(p.steps.all()) for p in Playbook.objects.prefetch_related("steps")}
    articles = {}
    for article in Article.objects.all():
        articles.setdefault(article.category_id, []).append(article)
    ticked = linked = 0
    for ticket in org.tickets:
        ticket.refresh_from_db(fields=["status", "category"])
        steps = playbooks.get(ticket.category_id, [])
        if ticket.status in (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING) and steps and ticked < 40:
            for step in steps[: rng.randint(1, len(steps))]:
                outcome = rng.choice([StepOutcome.SUCCEEDED, StepOutcome.SUCCEEDED, StepOutcome.FAILED])
                services.playbook_step_record(
                    ticket_id=ticket.pk, step_id=step.pk, outcome=outcome, result=RESULTS[outcome], acting_user=agent
                )
            ticked += 1
        elif ticket.status == TicketStatus.RESOLVED and articles.get(ticket.category_id) and linked < 30:
            article = rng.choice(articles[ticket.category_id])
            services.article_link_ticket(article_id=article.pk, ticket_id=ticket.pk, acting_user=agent)
            linked += 1
    voters = [user for name, user in org.users.items() if name.startswith(("requester", "agent"))]
    for article in Article.objects.filter(status="published"):
        for voter in rng.sample(voters, k=rng.randint(0, len(voters))):
            if article.is_public or voter.username.startswith("agent"):
                services.article_vote(article_id=article.pk, helpful=rng.random() < 0.8, acting_user=voter)
