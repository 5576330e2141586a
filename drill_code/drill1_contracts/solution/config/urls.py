from django.urls import include, path

urlpatterns = [path("api/", include("events.urls"))]

# Every error leaves the API as the contract's Error body, also the ones Django answers
# before any view runs: an unknown URL, an unreadable request, a crash.
handler400 = "events.exceptions.bad_request"
handler404 = "events.exceptions.not_found"
handler500 = "events.exceptions.server_error"
