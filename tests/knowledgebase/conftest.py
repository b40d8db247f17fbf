"""A small knowledge base the search, suggestion and visibility tests share."""

import pytest

from tests.factories import CategoryFactory, make_article


@pytest.fixture
def vpn_category(service_desk):
    return CategoryFactory(name="VPN", slug="vpn", default_queue=service_desk)


@pytest.fixture
def email_category(service_desk):
    return CategoryFactory(name="Email", slug="email", default_queue=service_desk)


@pytest.fixture
def corpus(agent, category, vpn_category, email_category):
    """Five published articles (two public) and one draft."""
    return {
        "password": make_article(
            author=agent,
            title="Reset a forgotten password with self-service",
            tags="password, self-service",
            category=category,
            public=True,
            body="Go to the reset portal, verify with your phone and choose a new passphrase of 14 characters.",
        ),
        "lockout": make_article(
            author=agent,
            title="Unlock an account locked after failed sign-ins",
            tags="lockout, account",
            category=category,
            body="Check the lock state in the directory, look for a device retrying an old password, then unlock.",
        ),
        "vpn": make_article(
            author=agent,
            title="VPN disconnects every few minutes",
            tags="vpn, globalprotect, tunnel",
            category=vpn_category,
            public=True,
            body="Tunnel drops usually come from Wi-Fi power saving. Disable it and update the GlobalProtect client.",
        ),
        "certificate": make_article(
            author=agent,
            title="VPN certificate not trusted",
            tags="vpn, certificate",
            category=vpn_category,
            body="The error 'certificate not trusted' means the root CA is missing; push the CA bundle via MDM.",
        ),
        "bounce": make_article(
            author=agent,
            title="Mail to a partner bounces with 550 5.7.1",
            tags="email, bounce, smtp",
            category=email_category,
            body="A 550 5.7.1 bounce means the recipient rejected us. Check SPF and the partner's allow list.",
        ),
        "draft": make_article(
            author=agent,
            title="VPN split tunnelling (draft notes)",
            tags="vpn",
            category=vpn_category,
            publish=False,
            body="Work in progress: split tunnelling routes for the VPN and Teams media traffic.",
        ),
    }
