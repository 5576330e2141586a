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
        # is_staff is included so the front end knows whether to show the admin menu.
        fields = ["id", "username", "email", "first_name", "last_name", "is_staff"]
        read_only_fields = ["id", "username"]


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "is_staff", "is_active", "date_joined"]
