"""Django: the WSGI ProfilerMiddleware around the project's application,
and a Django middleware that names each request by its URL pattern
(``users/<int:id>/``), so `pyrometer view DIR` groups requests by route.

    # wsgi.py
    from pyrometer.integrations.wsgi import ProfilerMiddleware
    application = ProfilerMiddleware(get_wsgi_application(), profile_dir="profiles", slower_than_ms=100)

    # settings.py
    MIDDLEWARE = ["pyrometer.integrations.django.RouteMiddleware", ...]
"""


class RouteMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = getattr(request, "resolver_match", None)
        route = getattr(match, "route", None)
        if route is not None:
            request.environ["pyrometer.route"] = "/" + route.lstrip("^")
        return None
