from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsOrganizerOrReadOnly(BasePermission):
    """Anyone signed in may read an event; only its organizer may change it."""

    def has_object_permission(self, request, view, obj):
        return request.method in SAFE_METHODS or obj.organizer_id == request.user.id
