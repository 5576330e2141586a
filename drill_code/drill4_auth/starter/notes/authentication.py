import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import authentication, exceptions


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate `Authorization: Bearer <token>` with the JWTs /api/auth/token/ issues."""

    keyword = "Bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Expected 'Authorization: Bearer <token>'.")
        try:
            claims = jwt.decode(
                parts[1],
                settings.SIMPLE_JWT["SIGNING_KEY"],
                algorithms=[settings.SIMPLE_JWT["ALGORITHM"]],
            )
        except jwt.InvalidTokenError as exc:
            raise exceptions.AuthenticationFailed("Invalid or expired token.") from exc
        try:
            user = get_user_model().objects.get(pk=claims["user_id"])
        except (KeyError, ValueError, get_user_model().DoesNotExist) as exc:
            raise exceptions.AuthenticationFailed("Unknown user.") from exc
        return user, claims

    def authenticate_header(self, request):
        return self.keyword
