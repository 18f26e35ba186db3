"""A one-file Django project for the per-request profile tests."""
import time

from django.conf import settings

settings.configure(
    DEBUG=False, SECRET_KEY="test", ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"],
    MIDDLEWARE=["pyrometer.integrations.django.RouteMiddleware"],
)

from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402


def django_slow_view(request, n):
    end = time.perf_counter() + 0.03
    while time.perf_counter() < end:
        pass
    return HttpResponse("item %d\n" % n, content_type="text/plain")


urlpatterns = [path("items/<int:n>/", django_slow_view)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
