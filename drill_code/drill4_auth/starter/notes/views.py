from django.contrib.auth import get_user_model
from rest_framework import generics, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from notes.models import Note, Project
from notes.permissions import IsStaff
from notes.serializers import (
    NoteSerializer,
    ProfileSerializer,
    ProjectSerializer,
    UserSerializer,
)


class HealthView(APIView):
    throttle_classes = []  # load balancers probe it often; a throttled probe is an outage

    def get(self, request):
        return Response({"status": "ok"})


class LogoutView(APIView):
    """JWTs are stateless: logging out means the client throws its tokens away."""

    permission_classes = [IsAuthenticated]

    def post(self, request):
        return Response({}, status=status.HTTP_200_OK)


class MeView(generics.RetrieveUpdateAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ProfileSerializer
    http_method_names = ["get", "patch"]

    def get_object(self):
        return self.request.user


class ProjectViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = ProjectSerializer

    def get_queryset(self):
        if self.action == "list":
            return Project.objects.filter(owner=self.request.user)
        return Project.objects.all()

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)


class ProjectNotesView(generics.ListCreateAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = NoteSerializer

    def get_queryset(self):
        return Note.objects.filter(project__pk=self.kwargs["project_pk"])

    def perform_create(self, serializer):
        project = generics.get_object_or_404(Project, pk=self.kwargs["project_pk"])
        serializer.save(project=project, author=self.request.user)


class UserListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated, IsStaff]
    serializer_class = UserSerializer
    queryset = get_user_model().objects.order_by("id")


class StatsView(APIView):
    """Counts for the staff dashboard."""

    def get(self, request):
        return Response(
            {
                "users": get_user_model().objects.count(),
                "projects": Project.objects.count(),
                "notes": Note.objects.count(),
            }
        )
