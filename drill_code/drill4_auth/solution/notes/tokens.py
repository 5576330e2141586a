"""The refresh endpoint: simplejwt's own serializer, with three gaps closed.

simplejwt 5.5.1's TokenRefreshSerializer
- looks the user up with .get(), so a deleted user's refresh token answers 500
  (upstream issue #860);
- never compares the token with the password it was issued under, even with
  CHECK_REVOKE_TOKEN on: only JWTAuthentication does, so a refresh after a password change
  still mints tokens (later simplejwt releases add this check: upstream pull request #928);
- checks the blacklist, then writes to it: two refreshes of one token at the same moment
  can both pass the check, and both get a fresh pair.
"""

from django.contrib.auth import get_user_model
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password


class SingleUseRefreshToken(RefreshToken):
    def verify(self):
        super().verify()  # signature, expiry, token type, and the blacklist
        user_id = self.payload.get(api_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user is None:
            raise TokenError("User not found")
        if api_settings.CHECK_REVOKE_TOKEN and self.payload.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise TokenError("The user's password has been changed.")

    def blacklist(self):
        blacklisted, created = super().blacklist()
        if not created:
            # Another refresh of this same token blacklisted it between our blacklist
            # check and this write. The blacklist row is unique per token, so the
            # database lets exactly one of them create it; the other is refused here.
            raise TokenError("Token is blacklisted")
        return blacklisted, created


class RefreshSerializer(TokenRefreshSerializer):
    token_class = SingleUseRefreshToken

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist as exc:  # deleted after verify() looked
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from exc
