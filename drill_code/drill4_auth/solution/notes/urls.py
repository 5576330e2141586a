from django.urls import path
from rest_framework.routers import SimpleRouter
from rest_framework_simplejwt.views import TokenBlacklistView, TokenRefreshView

from notes import views

router = SimpleRouter()
router.register("projects", views.ProjectViewSet, basename="project")

urlpatterns = [
    path("health/", views.HealthView.as_view()),
    path("auth/token/", views.LoginView.as_view()),
    path("auth/token/refresh/", TokenRefreshView.as_view()),
    # Logout revokes the refresh token. The access token cannot be revoked: it stays
    # valid until it expires, which is why its lifetime is minutes.
    path("auth/logout/", TokenBlacklistView.as_view()),
    path("me/", views.MeView.as_view()),
    path("projects/<int:project_pk>/notes/", views.ProjectNotesView.as_view()),
    path("users/", views.UserListView.as_view()),
    path("stats/", views.StatsView.as_view()),
    *router.urls,
]
