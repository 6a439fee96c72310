"""Referral intake: partners' referrals from email, Slack, their CRM or the portal, and deal
registrations, each checked for channel conflicts before anyone accepts it (SPEC section 7)."""
