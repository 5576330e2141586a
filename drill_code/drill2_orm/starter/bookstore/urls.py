from rest_framework.routers import SimpleRouter

from bookstore import views

router = SimpleRouter()
router.register("books", views.BookViewSet, basename="book")
router.register("authors", views.AuthorViewSet, basename="author")
router.register("publishers", views.PublisherViewSet, basename="publisher")
router.register("reviews", views.ReviewViewSet, basename="review")

urlpatterns = router.urls
