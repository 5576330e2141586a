from django.urls import path
from rest_framework.routers import SimpleRouter
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from notes import views

router = SimpleRouter()
router.register("projects", views.ProjectViewSet, basename="project")

urlpatterns = [
    path("health/", views.HealthView.as_view()),
    path("auth/token/", TokenObtainPairView.as_view()),
    path("auth/token/refresh/", TokenRefreshView.as_view()),
    path("auth/logout/", views.LogoutView.as_view()),
    path("me/", views.MeView.as_view()),
    path("projects/<int:project_pk>/notes/", views.ProjectNotesView.as_view()),
    path("users/", views.UserListView.as_view()),
    path("stats/", views.StatsView.as_view()),
    *router.urls,
]
