"""Accounts, organisations, memberships, invitations, web sessions and API tokens.

One module per aggregate; every public name is re-exported here, so callers write
`from fuwu.services import accounts` and `accounts.sign_up(...)`.
"""

from fuwu.services.accounts.admins import PLATFORM_NAME, create_admin
from fuwu.services.accounts.directory import category_filter, list_providers, provider_profile, ranked_provider_candidates
from fuwu.services.accounts.invitations import (
    INVITATION_DAYS,
    accept_invitation,
    invitation_by_token,
    invite,
    list_invitations,
    revoke_invitation,
)
from fuwu.services.accounts.members import (
    change_member_role,
    is_platform_admin,
    list_members,
    member_user_ids,
    membership,
    remove_member,
)
from fuwu.services.accounts.organisations import (
    ORG_COLUMNS,
    create_organisation,
    get_organisation,
    list_organisations,
    update_organisation,
)
from fuwu.services.accounts.people import get_user, memberships_of, set_locale, sign_up, update_profile
from fuwu.services.accounts.sessions import (
    authenticate,
    end_session,
    purge_expired,
    start_session,
    switch_organisation,
    viewer_from_session,
)
from fuwu.services.accounts.tokens import create_token, list_tokens, revoke_token, viewer_from_token
from fuwu.services.accounts.viewer import Member, Viewer

__all__ = [
    "INVITATION_DAYS",
    "ORG_COLUMNS",
    "PLATFORM_NAME",
    "Member",
    "Viewer",
    "accept_invitation",
    "authenticate",
    "category_filter",
    "change_member_role",
    "create_admin",
    "create_organisation",
    "create_token",
    "end_session",
    "get_organisation",
    "get_user",
    "invitation_by_token",
    "invite",
    "is_platform_admin",
    "list_invitations",
    "list_members",
    "list_organisations",
    "list_providers",
    "list_tokens",
    "member_user_ids",
    "membership",
    "memberships_of",
    "provider_profile",
    "ranked_provider_candidates",
    "purge_expired",
    "remove_member",
    "revoke_invitation",
    "revoke_token",
    "set_locale",
    "sign_up",
    "start_session",
    "switch_organisation",
    "update_organisation",
    "update_profile",
    "viewer_from_session",
    "viewer_from_token",
]
