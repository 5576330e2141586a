from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsOrganizerOrReadOnly(BasePermission):
    """Anyone signed in may read an event; only its organizer may change it."""

    def has_object_permission(self, request, view, obj):
        return request.method in SAFE_METHODS or obj.organizer_id == request.user.id


class OnlyTheOrganizerSeesAttendees(BasePermission):
    """Anyone signed in may book a ticket for an event; only the event's organizer may
    read who booked. A ticket carries a person's name and e-mail address, and a guest
    list is not something every other customer of the platform gets to download."""

    def has_object_permission(self, request, view, obj):  # obj: the event
        return request.method not in SAFE_METHODS or obj.organizer_id == request.user.id
