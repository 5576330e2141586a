from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from rest_framework import generics, viewsets
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView

from notes.models import Note, Project
from notes.serializers import (
    NoteSerializer,
    ProfileSerializer,
    ProjectSerializer,
    UserSerializer,
)


class LoginView(TokenObtainPairView):
    # Without its own throttle the token endpoint is a password-guessing oracle at the
    # general anonymous rate. ScopedRateThrottle counts per client address, which DRF
    # reads as NUM_PROXIES in settings says.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


class HealthView(APIView):
    permission_classes = [AllowAny]  # public on purpose; everything else is closed
    throttle_classes = []  # load balancers probe it often; a throttled probe is an outage

    def get(self, request):
        return Response({"status": "ok"})


class MeView(generics.RetrieveUpdateAPIView):
    serializer_class = ProfileSerializer
    http_method_names = ["get", "patch"]

    def get_object(self):
        return self.request.user


class ProjectViewSet(viewsets.ModelViewSet):
    serializer_class = ProjectSerializer

    def get_queryset(self):
        # Scope every action, not just the list, to the caller's projects. Another user's
        # project id then gives 404, so ids cannot be probed for existence (OWASP API1).
        return Project.objects.filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)


class ProjectNotesView(generics.ListCreateAPIView):
    serializer_class = NoteSerializer

    @cached_property
    def project(self):
        # A nested route must check the parent too: the project id comes from the URL.
        return get_object_or_404(Project, pk=self.kwargs["project_pk"], owner=self.request.user)

    def get_queryset(self):
        return Note.objects.filter(project=self.project)

    def perform_create(self, serializer):
        serializer.save(project=self.project, author=self.request.user)


class UserListView(generics.ListAPIView):
    # IsAdminUser checks is_staff in has_permission(), which runs for every request.
    # has_object_permission() alone would never run on a list view.
    permission_classes = [IsAdminUser]
    serializer_class = UserSerializer
    queryset = get_user_model().objects.order_by("id")


class StatsView(APIView):
    permission_classes = [IsAdminUser]

    def get(self, request):
        return Response(
            {
                "users": get_user_model().objects.count(),
                "projects": Project.objects.count(),
                "notes": Note.objects.count(),
            }
        )
