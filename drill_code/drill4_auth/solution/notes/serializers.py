from django.contrib.auth import get_user_model
from rest_framework import serializers

from notes.models import Note, Project


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "owner", "created_at"]
        read_only_fields = ["owner", "created_at"]


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "project", "author", "body", "created_at"]
        read_only_fields = ["project", "author", "created_at"]
        extra_kwargs = {"body": {"max_length": 10_000}}  # TextField has no limit of its own


class ProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "first_name", "last_name", "is_staff"]
        # The client may *show* is_staff, never set it: every field a user can reach
        # through PATCH /api/me/ must be one they are allowed to change.
        read_only_fields = ["id", "username", "is_staff"]


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "is_staff", "is_active", "date_joined"]
