"""Does each handoff field say something a Tier 2 engineer can act on?

One table of checks per field (RULES), read the way an experienced Tier 2 lead
reads a handoff: a symptom on a named system; at least two concrete steps, each
done to something; evidence as it was seen (an error text, code or log line, or
exactly what is observed when nothing is shown), never a pointer elsewhere or
hearsay; a scope and a count that agree; an urgency. Length is not substance:
"VPN drops every 10 min" is fine, a paragraph of "please check" is not.

Each rule looks at one field and returns a Verdict (the field is settled, good
or not) or None (no opinion: the next rule decides). The same table answers
the service (API, pages, automatic escalations), the card's per-field quality
and the Tier 2 queue. Every refusal names what is wrong and ends with a
one-line example of a good answer for that field in the ticket's category.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cached_property

COMPLETE, WEAK, MISSING = "complete", "weak", "missing"
QUALITY_LABELS = {COMPLETE: "complete", WEAK: "weak", MISSING: "missing"}


@dataclass(frozen=True)
class Verdict:
    status: str  # complete · weak · missing
    problem: str = ""  # what is wrong, in a few words (empty when complete)

    @property
    def ok(self) -> bool:
        return self.status == COMPLETE


GOOD = Verdict(COMPLETE)


# ---------------------------------------------------------------- examples (per category, per field)

# The one-line example each refusal ends with, by category slug (unknown categories: "default").
EXAMPLES: dict[str, dict[str, str]] = {
    "default": {
        "problem_summary": "Finance app sign-in fails with AADSTS50105 for the Finance team since 08:40.",
        "steps_tried": "Reset the password (no change); signed in from a private window (same error).",
        "error_evidence": "AADSTS50105: Your administrator has configured the application to block users.",
    },
    "password-reset": {
        "problem_summary": "Self-service password reset refuses the account as 'not eligible'.",
        "steps_tried": "Verified identity by callback; ran SSPR twice ('not eligible'); checked the SSPR-Users group.",
        "error_evidence": "Your account is not eligible for password reset (code 0x80048823)",
    },
    "account-access": {
        "problem_summary": "Account locked after repeated MFA prompts the user did not start.",
        "steps_tried": "Checked sign-in logs (12 failed MFA in 5 min); confirmed the lock state in Entra ID.",
        "error_evidence": "AADSTS50053: The account is locked, you've tried to sign in too many times.",
    },
    "vpn": {
        "problem_summary": "GlobalProtect VPN drops every 10 minutes on home Wi-Fi; office network is fine.",
        "steps_tried": "Reinstalled the VPN client; switched from Wi-Fi to tethering (same drop).",
        "error_evidence": "PanGPS: tunnel is down due to keep-alive timeout",
    },
    "network-outage": {
        "problem_summary": "No Wi-Fi on floor 3 since 09:00; wired ports on the same floor work.",
        "steps_tried": "Power-cycled the PoE injector; checked the controller dashboard (4 APs dark).",
        "error_evidence": "AP-3F-01 state=DISCONNECTED last_seen=08:57:12 uplink=Gi1/0/24 err-disabled",
    },
    "email": {
        "problem_summary": "Mail to the logistics partner's domain bounces since Monday's certificate change.",
        "steps_tried": "Ran a message trace (14 failed); re-sent from Outlook on the web (same bounce).",
        "error_evidence": "550 5.7.1 Service unavailable; Client host [203.0.113.25] blocked",
    },
    "software-install": {
        "problem_summary": "Power BI Desktop install is blocked by the AppLocker allow-list.",
        "steps_tried": "Tried the Company Portal package (not listed); checked the licence (assigned).",
        "error_evidence": "This app has been blocked by your system administrator.",
    },
    "hardware": {
        "problem_summary": "Laptop will not charge with two known-good chargers; BIOS reports no battery.",
        "steps_tried": "Tested two chargers and another dock; ran vendor diagnostics from the boot menu.",
        "error_evidence": "Diagnostics: Battery — Not detected (error 2000-0131)",
    },
    "security-incident": {
        "problem_summary": "User entered their password on a phishing page impersonating the IT portal.",
        "steps_tried": "Reset the password; revoked all sessions in Entra ID; isolated the laptop in Defender.",
        "error_evidence": "Sign-in 10:42:07Z IP 198.51.100.77 (NL) App: Office 365 MFA: approved",
    },
}
NO_ERROR_EXAMPLE = "No error is shown: the screen goes black for 3 s and returns to the sign-in page."

# Lazy answers the escalate form itself shows as what not to write (tests prove each is refused).
WEAK_EXAMPLES: dict[str, list[str]] = {
    "problem_summary": ["User can't log in. Please check.", "Issue with laptop, please assist ASAP"],
    "steps_tried": ["Tried the usual things, nothing.", "Basic troubleshooting done as per process."],
    "error_evidence": ["see the ticket description", "User says there is an error message"],
}


def example_for(field: str, category_slug: str | None) -> str:
    return EXAMPLES.get(category_slug or "", EXAMPLES["default"]).get(field) or EXAMPLES["default"][field]


# ---------------------------------------------------------------- text helpers


def _words(text: str) -> frozenset[str]:
    """A word list written as prose (easier to read and extend than one quoted word per line)."""
    return frozenset(text.split())


_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
# A token keeps inner hyphens, apostrophes, dots and slashes: sign-in, can't, fs01.corp.local, Wi-Fi.
_TOKEN = re.compile(r"[^\W_](?:[\w'\-./]*[^\W_])?")


def fold(text: str) -> str:
    """Lower-case, accents folded, punctuation dropped, whitespace collapsed (for comparisons only)."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    if not folded.isascii():  # no ASCII character is a combining mark
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.translate(_APOSTROPHES))


def words(text: str) -> list[str]:
    """Lower-case tokens, possessive 's dropped."""
    return [re.sub(r"'s$", "", t.casefold()) for t in tokens(text)]


# Whole answers that say nothing, one per line (compared after folding case and punctuation).
PLACEHOLDERS = frozenset(
    line.strip()
    for line in """
    n a
    na
    n/a
    tbd
    tba
    todo
    none
    nothing
    nil
    null
    unknown
    idk
    see above
    as above
    same as above
    see ticket
    see description
    see title
    same
    test
    testing
    asdf
    x
    xx
    xxx
    pending
    later
    no
    yes
    ok
    dunno
    not sure
    nothing to add
    no idea
    will update
    to follow
    """.splitlines()
    if line.strip()
)
CHECKLIST_PLACEHOLDERS = PLACEHOLDERS - {"yes", "no", "ok"}


def is_placeholder(text: str, placeholders=PLACEHOLDERS) -> bool:
    plain = fold(text)
    return plain == "" or plain in placeholders or text.strip().casefold() in placeholders


def restates(text: str, title: str, threshold: float = 0.85) -> bool:
    a, b = fold(strip_asks(text)), fold(title)
    if not a or not b:
        return False
    if a == b:
        return True
    # ratio() ≤ quick_ratio() ≤ real_quick_ratio(): the cheap upper bounds rule most texts out
    # before the full match (a sweep judges thousands of handoffs).
    matcher = SequenceMatcher(None, a, b)
    return (
        matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold and matcher.ratio() >= threshold
    )


STOPWORDS = _words(
    """
    a an the and or but of to in on at for from with by via into onto over under about as is are was were be
    been being has have had do does did not no nor so then than that this these those it its it's his her their
    them they he she we i you your my our me us also just still again both each either which who whom whose when
    while after before since until if because there here what where how any some can could would should will
    shall may might must very too more most
    """
)


# ---------------------------------------------------------------- what is wrong

# Requests and filler that say something is wrong without saying what.
GENERIC_ASKS = re.compile(
    r"\b(please|pls|plz|kindly)\b[^.!?\n]*"
    r"|\b(asap|urgent(ly)?|help( needed)?|assist(ance)?|advi[cs]e|investigate|look into( it)?|check( it)?)\b"
    r"|\b(does ?n[o']?t|do ?n[o']?t|is ?n[o']?t|not|won'?t|will not|never)\s+work(ing|s)?\b"
    r"|\b(not working|broken|broke|faulty|an? (issue|problem)s?( with)?|(issues?|problems?)( with)?|having (issues|problems|trouble)( with)?)\b",
    re.IGNORECASE,
)


def strip_asks(text: str) -> str:
    return GENERIC_ASKS.sub(" ", text.translate(_APOSTROPHES))


SYMPTOM_WORDS = _words(
    """
    fail fails failed failing failure failures denied denies refuse refuses refused refusing reject rejects
    rejected rejecting locked lockout lockouts locks expired expires expiring crash crashes crashed crashing
    freeze freezes froze frozen freezing hang hangs hung hanging slow slower slowly sluggish lag lags lagging
    laggy timeout timeouts timed drop drops dropped dropping disconnects disconnected disconnecting bounce
    bounces bounced bouncing blank black bsod missing greyed grayed stuck loop loops looping redirect redirects
    redirecting flicker flickers flickering overheats overheating jams jammed corrupt corrupted unreachable
    offline outage intermittent intermittently spins spinning blocked blocks unavailable invalid duplicate
    duplicated duplicates delayed delay stops stopped quarantined unlicensed unresponsive dead dark disappeared
    disappears vanished lost leaked leak phishing phished compromised suspicious ransomware malware virus
    encrypted breach exposed prompts prompted prompting reboots restarts garbled distorted muted silent beeps
    beeping clicking cracked smashed shattered overdue stale inaccessible revoked suspended disabled deactivated
    unsigned untrusted mismatch rejected spam junk wrong deleted hijacked impersonating impersonation
    exfiltration throttled saturated degraded reset resets rolls rollback aborts aborted reverts reverted
    cancels cancelled terminates quits stutters echo echoes without instead mistake mistakenly accidentally
    misdirected unauthorised unauthorized unknown misprints unable error errors
    """
)
# "error" alone is not a symptom ("Outlook error, please check"); with a code or a quote it is.
WEAK_SYMPTOMS = frozenset({"error", "errors", "wrong"})
_NEGATED = re.compile(
    r"\b(can ?not|can't|cant|won't|wont|will not|unable to|could ?n[o']?t|couldnt|does ?n[o']?t|doesnt|did ?n[o']?t|"
    r"didnt|is ?n[o']?t|isnt|are ?n[o']?t|arent|was ?n[o']?t|never|no longer|not|keeps|keep)\s+(?:be\s+)?(?:able\s+to\s+)?"
    r"(\w+)",
    re.IGNORECASE,
)
_NO_THING = re.compile(r"\bno\s+(?!one\b|idea\b|change\b)([\w-]{2,})", re.IGNORECASE)
_FREQUENCY = re.compile(
    r"\b(every|each)\s+(\d+|few|other)?\s*(s|sec|secs|seconds?|min|mins|minutes?|h|hrs?|hours?|days?)\b"
    r"|\b\d+\s*(%|(ms|s|sec|min|mins|minutes)\b)",
    re.IGNORECASE,
)

SYSTEM_WORDS = _words(
    """
    vpn wifi wi-fi wlan lan ethernet internet dns dhcp proxy firewall email e-mail mail mails emails mailbox
    mailboxes outlook exchange owa smtp imap calendar teams zoom webex slack skype sharepoint onedrive share
    shares drive drives folder fileshare printer printers printing scanner copier laptop laptops desktop
    desktops pc pcs workstation computer monitor monitors screen display dock docking keyboard mouse headset
    phone phones mobile iphone android tablet ipad battery charger usb bluetooth webcam camera microphone mic
    account accounts password passwords mfa 2fa sso authenticator okta ad aad entra azure ldap kerberos domain
    intranet citrix vdi rdp sap erp crm salesforce workday servicenow jira confluence github gitlab office word
    excel powerpoint onenote adobe acrobat pdf chrome edge firefox safari browser windows macos mac linux ios
    bitlocker intune sccm mdm antivirus defender database sql oracle api switch router globalprotect anyconnect
    forticlient cisco payroll timesheet timesheets expenses licence license certificate cert badge door voip
    softphone headset projector sspr sign-in signin login logon log-in ssid wireless network networks gateway
    tunnel vlan port ports server servers mailflow distribution dl calendar meeting room tenant o365 m365
    office365 vm vms cluster storage backup nas bios uefi firmware driver drivers update updates tpm pin token
    tokens smartcard cac yubikey fob okta duo ticketing crm hris helpdesk kiosk pos till scanner barcode label
    labeler plotter fax file files documents data spreadsheet ransomware phishing malware virus
    """
)
# Too generic to name a system on their own ("the app crashes": which app?); a qualifier makes them specific.
GENERIC_SYSTEMS = _words(
    """
    app apps application applications software program programs tool tools system systems website site sites
    page portal platform service services machine device devices thing stuff
    """
)
_IDENTIFIER = re.compile(
    r"\b(?=[\w.-]*\d)(?=[\w.-]*[A-Za-z])[A-Za-z][\w.-]*\b"  # fs01, KB5034441, gp-lon-01, win11
    r"|\b[A-Z]{2,}\b"  # SAP, CRM, HR
    r"|\b[A-Z][a-z]+[A-Z]\w*\b"  # SharePoint, OneDrive, GlobalProtect
    r"|\\\\[\w.$-]+|\b[A-Za-z]:\\|https?://\S+|\b[\w-]+\.(?:com|net|org|local|corp|io|internal)\b"
)
_CAPITALISED = re.compile(r"(?<![.!?:;\n]\s)(?<!^)(?<![.!?:;\n])\b[A-ZÀ-ÖØ-Þ][\w'-]+")


def has_code_or_quote(text: str) -> bool:
    return bool(ERROR_CODE.search(text) or QUOTED.search(text))


def has_symptom(text: str) -> bool:
    plain = strip_asks(text)
    lowered = [w.strip(".-") for w in words(plain)]
    if any(w in SYMPTOM_WORDS and w not in WEAK_SYMPTOMS for w in lowered):
        return True
    for match in _NEGATED.finditer(plain):
        if match.group(2).casefold() not in {"work", "working", "works", "sure", "know", "the", "a"}:
            return True
    if _NO_THING.search(plain) or _FREQUENCY.search(plain):
        return True
    return has_code_or_quote(text)


def names_system(text: str) -> bool:
    plain = strip_asks(text)
    lowered = words(plain)
    for i, word in enumerate(lowered):
        if word in SYSTEM_WORDS or any(part in SYSTEM_WORDS for part in word.split("-")):
            return True
        if word in GENERIC_SYSTEMS and i > 0 and lowered[i - 1] not in STOPWORDS and lowered[i - 1] not in {"user"}:
            return True  # "finance app", "HR portal"
    if _IDENTIFIER.search(plain) or QUOTED.search(plain):
        return True
    # A capitalised word inside a sentence is a product or place name ("Workday", "Kronos", "Paris").
    return any(m.group(0).casefold() not in STOPWORDS for m in _CAPITALISED.finditer(plain))


def _summary_restates(value: str, ctx) -> Verdict | None:
    if restates(value, ctx.title):
        return Verdict(WEAK, "only repeats the ticket title; say what the user sees and where")
    return None


def _summary_symptom(value: str, ctx) -> Verdict | None:
    if has_symptom(value):
        return None
    if GENERIC_ASKS.search(value.translate(_APOSTROPHES)):
        return Verdict(
            WEAK,
            "is a request, not a symptom (“please check”, “doesn't work”, “issue with …”); say what fails and how",
        )
    return Verdict(WEAK, "does not say what goes wrong; name the symptom (what fails, what the user sees)")


def _summary_system(value: str, ctx) -> Verdict | None:
    if names_system(value):
        return None
    return Verdict(WEAK, "does not name the system or service; say where it happens (which app, device or service)")


# ---------------------------------------------------------------- what was tried

_VERB_BASES = _words(
    """
    restart reboot reset reinstall install uninstall remove delete clear flush renew release check verify
    confirm test try ping trace run update upgrade downgrade patch roll revert replace swap reseat unplug plug
    connect reconnect disconnect power cycle sign log unlock enable disable rebuild recreate create repair fix
    map remap mount unmount compare reproduce ask call look review inspect boot open use switch change set
    register enroll enrol join rejoin sync resync scan collect export import capture pull search query kill stop
    start apply assign grant revoke approve copy download upload image reimage format clean move add rename edit
    configure reconfigure adjust increase extend resend send forward pair unpair charge measure monitor walk
    escalate contact deploy push redeploy reapply restore recover isolate quarantine block unblock whitelist
    allowlist disable purge empty rerun refresh reload relaunch launch close force tested trace traced confirm
    validate re-enter enter type retype shutdown shut power-cycle reauthenticate authenticate re-register
    reregister reprovision provision issue reissue regenerate generate rotate update download attach detach
    replug reflash flash wipe erase delete disconnect dial redial verify note record gather pull read
    """
)
_IRREGULAR = _words(
    """
    ran rerun re-ran reran did sent resent set reset reseted rebuilt built tried went shut put got took made
    wrote rewrote read swapped plugged unplugged mapped remapped logged signed rolled stopped dropped
    """
)


def _forms(base: str) -> set[str]:
    forms = {base, base + "s", base + "es", base + "ed", base + "d", base + "ing"}
    if base.endswith("e"):
        forms |= {base[:-1] + "ing", base + "d"}
    if base.endswith("y"):
        forms |= {base[:-1] + "ied", base[:-1] + "ies"}
    if re.search(r"[^aeiou][aeiou][bdglmnprt]$", base):
        forms |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    return forms


ACTION_VERBS = frozenset({form for base in _VERB_BASES for form in _forms(base)} | set(_IRREGULAR))
# Verbs that are one action whatever the spelling ("restarted" and "rebooted" the laptop are one step).
_SYNONYMS = {"reboot": "restart", "power-cycle": "restart", "cycle": "restart", "ran": "run", "rerun": "run"}
# Command-line tools: naming one is naming a concrete step.
COMMANDS = _words(
    """
    ipconfig gpupdate nslookup ping tracert traceroute pathping netsh sfc dism chkdsk gpresult whoami klist
    dsregcmd certutil nltest netstat telnet curl wget dig mtr arp route tnc test-netconnection get-aduser
    get-mailbox get-messagetrace resolve-dnsname repadmin dcdiag
    """
)
VAGUE = _words(
    """
    everything anything all things thing stuff it them this that usual normal basic standard general generic
    common regular troubleshooting troubleshoot steps step process procedure procedures per sop again already
    twice multiple several times nothing fine ok okay good change changes luck difference effect success
    successful worked working work help helped same issue issues problem problems error errors fix fixes
    solution solutions possible options option way ways methods method usual suspects etc other others bit lot
    lots few couple various options user users customer requester caller him her whole full simple obvious
    needful required necessary relevant appropriate done
    """
)
PARTICLES = _words("off on out in up down back over through")
GENERIC_STEPS = re.compile(
    r"\b(the usual|usual (things|stuff|steps|checks|suspects)|basic (troubleshooting|checks|steps)|standard "
    r"(troubleshooting|checks|steps|procedure)|(as )?per (the )?(process|procedure|sop|kb|playbook|checklist)|"
    r"(tried|checked|did|done) (everything|it all|all (the )?(things|steps|checks))|all (steps|checks) done|"
    r"troubleshooting done|nothing (worked|helped)|all (fine|good|ok))\b",
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"[\n;,•·→]|(?<!\w\.\w)(?<=[a-z)\]])[.!?](?=\s|$)|\bthen\b|\s[-–—]\s|^\s*[-*\d.)]+\s", re.M)


def _is_verb(word: str) -> str | None:
    """The canonical verb for an action word, or None."""
    word = word.strip("-.'")
    if word in ACTION_VERBS:
        return word
    for prefix in ("re-", "re", "un"):
        if word.startswith(prefix) and word[len(prefix) :] in ACTION_VERBS and len(word) - len(prefix) > 2:
            return word[len(prefix) :]
    head = word.split("-")[0]
    if "-" in word and head in ACTION_VERBS and word.split("-")[-1] not in {"in", "on", "out", "up"}:
        return head  # power-cycled
    return None


def _stem(verb: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "d"):
        if verb.endswith(suffix) and len(verb) - len(suffix) >= 3:
            verb = verb[: -len(suffix)]
            break
    verb = re.sub(r"(.)\1$", r"\1", verb).rstrip("e")
    return _SYNONYMS.get(verb, verb)


def concrete_actions(text: str) -> list[tuple[str, frozenset[str]]]:
    """Distinct (verb, object words) pairs: each a step done to something."""
    found: dict[tuple[str, frozenset[str]], None] = {}
    for clause in _CLAUSES.split(text.translate(_APOSTROPHES)):
        if not clause or not clause.strip():
            continue
        segments: list[list] = []  # [verb or None, objects]
        pending: list[str] = []  # words before the first verb ("password reset", "cache cleared")
        for raw in tokens(clause):
            word = re.sub(r"'s$", "", raw.casefold())
            if word in COMMANDS:
                segments.append([word, {word}])
                continue
            verb = _is_verb(word)
            if verb and not (segments and segments[-1][0] == _stem(verb) and not segments[-1][1]):
                segments.append([_stem(verb), set(pending) if not segments else set()])
                pending = []
                continue
            if word in {"and", "&", "plus"} and segments and segments[-1][1]:
                segments.append([segments[-1][0], set()])  # "tried another dock and another cable": two tries
                continue
            if word in STOPWORDS or word in VAGUE or word in PARTICLES or len(word) < 2 and not word.isdigit():
                continue
            if segments:
                segments[-1][1].add(word)
            else:
                pending.append(word)
        for verb, objects in segments:
            if objects:
                found.setdefault((verb, frozenset(objects)), None)
    # The same verb on the same thing twice is one step; so is a verb whose objects another step already covers.
    distinct: list[tuple[str, frozenset[str]]] = []
    for verb, objects in found:
        if any(verb == v and objects <= o for v, o in distinct):
            continue
        distinct = [(v, o) for v, o in distinct if not (v == verb and o <= objects)]
        distinct.append((verb, objects))
    return distinct


def _steps_concrete(value: str, ctx) -> Verdict | None:
    actions = concrete_actions(value)
    if len(actions) >= 2:
        return None
    generic = GENERIC_STEPS.search(value)
    if generic:
        return Verdict(
            WEAK,
            f"“{generic.group(0)}” does not tell Tier 2 what to rule out; list at least two steps, each with what it "
            "was done to and what happened",
        )
    if len(actions) == 1:
        return Verdict(WEAK, "names only one concrete step; list at least two, each with what it was done to")
    return Verdict(
        WEAK, "names no concrete step; list at least two actions, each with its object (“reinstalled the VPN client”)"
    )


# ---------------------------------------------------------------- evidence, verbatim

ERROR_CODE = re.compile(
    r"\b0x[0-9a-f]{4,}\b"  # 0x80070005
    r"|\b[A-Z]{2,}[A-Z_]*[-_ ]?\d{2,}\b"  # AADSTS50126, ORA-12154, KB5034441
    r"|\b[A-Z]{2,}(?:_[A-Z0-9]+)+\b"  # ERR_CONNECTION_RESET
    r"|\b[A-Z]\d{3,}\b"  # E1234
    r"|\b(?=[\w.-]*\d)(?=[\w.-]*[A-Z])[A-Z0-9]{1,8}(?:[.-][A-Z0-9]{1,8})+\b"  # 13.B2.D2, 7F3A-99C2
    r"|\((?:[A-Z][\w']*\s?){1,4}\)"  # (Not Responding)
    r"|\b[245]\.\d\.\d{1,3}\b"  # 5.7.1
    r"|\b(?i:HTTP|status|code|error|errno|event id|exit code|stop code|err)\s*[:#]?\s*-?\d{2,}\b"
    r"|\b(?i:error code|code|error)\s*[:#]\s*-?\d+(?:\.\d+)*\b"
    r"|\b[1-5]\d\d\s+(?:[A-Z][a-z]+\s?){1,3}\b"  # 403 Forbidden, 550 Requested action
    r"|\b\d{3,}-\d{3,}\b"  # 2000-0131
    r"|\b\w+(?:Exception|Error)\b|Traceback|\bat [\w.$<>]+\(|File \"[^\"]+\", line \d+"
    r"|\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\b\d{1,2}:\d{2}:\d{2}\b"  # timestamps
    r"|\b(?:ERROR|WARN|WARNING|FATAL|CRITICAL|SEVERE)\b"
    r"|\b\w+=\S+"  # key=value log fields
    r"|\\\\[\w.$-]+\\|\b[A-Z]:\\|https?://\S+"  # paths, URLs
    r"|\b[A-Z]{2,}(?:\s+[A-Z]{2,}){1,}\b"  # PC LOAD LETTER
)
QUOTED = re.compile(
    r"\"[^\"\n]{3,}\"|“[^”\n]{3,}”|«[^»\n]{3,}»|„[^“”\n]{3,}[“”]|(?<![\w])'[^'\n]{3,}'(?![\w])|‘[^’\n]{3,}’"
)
POINTERS = re.compile(
    r"\b(see|refer to|check|as in|look at|per)\s+(the\s+)?(ticket|description|above|below|title|notes?|"
    r"comments?|email|thread|screenshot|attachment|attached|log|logs|previous|earlier|call notes?)\b"
    r"|\b(same as|as) (above|before|description|the title)\b|\b(see|check|refer to) (attached|attachment)s?\b"
    r"|\b(attached|in the attachment|screenshot attached|see screenshot|as attached)\b",
    re.IGNORECASE,
)
ATTACHMENT_POINTER = re.compile(r"\battach(ed|ment|ments)\b|\bscreenshots?\b", re.IGNORECASE)
HEARSAY = re.compile(
    r"\b(user|users|customer|caller|requester|client|he|she|they|staff|manager|someone)\s+"
    r"(says?|said|reports?|reported|mentions?|mentioned|claims?|claimed|told|tells|thinks?|thought|believes?|"
    r"states?|stated|complains?|complained)\b"
    r"|\bapparently\b|\baccording to\b|\breportedly\b"
    r"|\b(there is|there's|there was|gets?|getting|got|receives?|receiving|sees?|seeing|saw|shows?|showing|"
    r"displays?|pops? up with)\s+(an?|some|the|this)\s+(kind of\s+)?(weird\s+|strange\s+|generic\s+)?"
    r"(error|message|warning|popup|pop-up)\b"
    r"|\b(an?|some) (error|error message|message|warning) (appears|pops up|comes up|is shown|shows)\b",
    re.IGNORECASE,
)
NO_ERROR = re.compile(
    r"\bno (error|errors|message|messages|prompt|warning|code|pop-?up|dialog|notification)s?\b"
    r"|\bnothing (is |gets )?(shown|displayed|appears|happens|comes up|pops up)\b"
    r"|\bwithout (any |an )?(error|message|warning)\b|\bsilently\b|\bdoes not show (an|any) (error|message)\b"
    r"|\bdoesn't show (an|any) (error|message)\b",
    re.IGNORECASE,
)
OBSERVATION = _words(
    """
    screen window page dialog button spinner icon cursor taskbar tab banner bar prompt goes returns closes
    disappears spins hangs freezes flashes stays shows loads reloads redirects greyed grayed stuck blank black
    white sign-in login logon desktop crashes quits exits vanishes reverts bounces back loops sits tray light
    lights led blinks beeps turns fan sound tone dial
    """
)
BARE = _words(
    """
    error errors fail fails failed failure crash crashes crashed broken issue problem message popup pop-up
    warning it not working doesn't work does there an a the some generic same again shows displays got get gets
    an error code unknown weird strange
    """
)
NARRATIVE = re.compile(
    r"\b(user|users|customer|caller|requester|he|she|they|we|i)\b"
    r"|\b(when|while|whenever)\s+(trying|logging|signing|opening|connecting|attempting|starting|launching|printing|"
    r"sending|accessing|using|he|she|they|the user)\b",
    re.IGNORECASE,
)
MESSAGE_WORDS = re.compile(
    r"\b(cannot|can't|could not|couldn't|unable|failed|failure|denied|invalid|expired|not found|not available|"
    r"unavailable|refused|rejected|blocked|please|your|try again|contact|administrator|is not|was not|has "
    r"been|not allowed|not authori[sz]ed|forbidden|timed out|timeout|something went wrong|unexpected|incorrect|"
    r"no longer|not valid|not recogni[sz]ed|not eligible|disabled|locked|required|too many)\b",
    re.IGNORECASE,
)
_LABELLED = re.compile(r"^\s*[\w .()/-]{1,40}:\s+\S.{5,}", re.M)


def _evidence_verbatim_marker(value: str, ctx) -> Verdict | None:
    return GOOD if has_code_or_quote(value) else None


def _evidence_pointer(value: str, ctx) -> Verdict | None:
    if not POINTERS.search(value):
        return None
    if ATTACHMENT_POINTER.search(value) and ctx.has_attachments:
        return GOOD  # the screenshot or log really is on the ticket, where Tier 2 sees it
    return Verdict(
        WEAK,
        "points elsewhere instead of quoting it; paste the error text or log lines here (nothing is attached to the "
        "ticket)"
        if ATTACHMENT_POINTER.search(value)
        else "points elsewhere instead of quoting it; paste the error text or log lines here",
    )


def _evidence_no_error(value: str, ctx) -> Verdict | None:
    if not NO_ERROR.search(value):
        return None
    content = [w for w in words(NO_ERROR.sub(" ", value)) if w not in STOPWORDS]
    precise = re.search(r"\d", value) or sum(w in OBSERVATION for w in content) >= 2
    if precise and len(content) >= 4:
        return GOOD
    return Verdict(WEAK, "says no error is shown but not what is seen instead; describe exactly what the user observes")


def _evidence_hearsay(value: str, ctx) -> Verdict | None:
    if HEARSAY.search(value):
        return Verdict(WEAK, "is hearsay or a paraphrase; quote the exact text the user sees (read it out together)")
    return None


def _evidence_bare(value: str, ctx) -> Verdict | None:
    content = words(value)
    # "error", "it fails", "Outlook error": a word for trouble, at most with the system's name.
    if (
        len(content) <= 4
        and any(w in BARE for w in content)
        and all(w in BARE or w in STOPWORDS or w in SYSTEM_WORDS or w in GENERIC_SYSTEMS for w in content)
    ):
        return Verdict(WEAK, "is a bare word, not evidence; paste the exact error text, code or log line")
    return None


def _evidence_as_seen(value: str, ctx) -> Verdict | None:
    lines = [line for line in value.splitlines() if line.strip()]
    if len(lines) >= 2 and not NARRATIVE.search(value):
        return GOOD
    if _LABELLED.search(value) and not NARRATIVE.search(value):
        return GOOD  # "SSPR: Your account is not eligible…"
    text = value.strip()
    if len(words(text)) >= 2 and not NARRATIVE.search(text) and (MESSAGE_WORDS.search(text) or text[-1] in ".!"):
        return GOOD  # a message as it reads: "Access is denied."
    return Verdict(WEAK, "reads like a description, not the text as seen; paste the exact message, code or log line")


# ---------------------------------------------------------------- the table


@dataclass
class Context:
    """What the checks know about the ticket. has_attachments is asked only when evidence points at one."""

    title: str = ""
    category_slug: str = ""
    ticket_urgency: str = ""
    attachments: Callable[[], bool] | bool = False

    @cached_property
    def has_attachments(self) -> bool:
        return self.attachments() if callable(self.attachments) else bool(self.attachments)


def _blank(value: str, ctx) -> Verdict | None:
    if not value or not value.strip() or not re.search(r"\w", value):
        return Verdict(MISSING, "is missing")
    return None


def _placeholder(value: str, ctx) -> Verdict | None:
    if is_placeholder(value):
        return Verdict(WEAK, f"“{value.strip()[:40]}” is a placeholder, not an answer")
    return None


def _restates(value: str, ctx) -> Verdict | None:
    if restates(value, ctx.title):
        return Verdict(WEAK, "only repeats the ticket title")
    return None


Rule = Callable[[str, Context], Verdict | None]
RULES: dict[str, list[tuple[str, Rule]]] = {
    "problem_summary": [
        ("blank", _blank),
        ("placeholder", _placeholder),
        ("restates title", _summary_restates),
        ("no symptom", _summary_symptom),
        ("no system", _summary_system),
    ],
    "steps_tried": [
        ("blank", _blank),
        ("placeholder", _placeholder),
        ("restates title", _restates),
        ("two concrete steps", _steps_concrete),
    ],
    "error_evidence": [
        ("blank", _blank),
        ("placeholder", _placeholder),
        ("code, quote or log line", _evidence_verbatim_marker),
        ("pointer elsewhere", _evidence_pointer),
        ("no error shown", _evidence_no_error),
        ("hearsay", _evidence_hearsay),
        ("bare word", _evidence_bare),
        ("restates title", _restates),
        ("as seen", _evidence_as_seen),
    ],
}
TEXT_FIELDS = tuple(RULES)


def judge_text(field: str, value: str, ctx: Context) -> Verdict:
    for _name, rule in RULES[field]:
        verdict = rule(value or "", ctx)
        if verdict is not None:
            return verdict
    return GOOD


SCOPES_WITH_COUNT = ("team", "site", "organization")


def judge_scope(scope: str, count: int | None) -> tuple[Verdict, str]:
    """(verdict, the field the message belongs to: affected_scope or affected_count)."""
    from tickets.models import Impact

    if scope not in Impact.values:
        return Verdict(MISSING, "is required: choose one person, a team, a site or the whole organization"), (
            "affected_scope"
        )
    if count is not None and count < 1:
        return Verdict(WEAK, "must be at least 1 (leave it empty only for one person)"), "affected_count"
    if scope == Impact.INDIVIDUAL and count is not None and count > 1:
        return Verdict(
            WEAK, f"says one person but counts {count}; choose a team, a site or the organization, or fix the count"
        ), "affected_count"
    if scope in SCOPES_WITH_COUNT and count is None:
        return Verdict(WEAK, f"is “{Impact(scope).label}”: say how many people (roughly) are affected"), (
            "affected_count"
        )
    if scope in SCOPES_WITH_COUNT and count == 1:
        return Verdict(
            WEAK, f"is “{Impact(scope).label}” but counts 1 person; choose one person, or give the real count"
        ), "affected_count"
    return GOOD, "affected_scope"


def judge_urgency(urgency: str) -> Verdict:
    from tickets.models import Urgency

    if urgency not in Urgency.values:
        return Verdict(MISSING, "is required: say how work is hit (stopped, slowed or minor)")
    return GOOD
