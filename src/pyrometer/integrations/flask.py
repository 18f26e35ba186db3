"""Flask: ``profile_app(app, **options)`` puts the WSGI ProfilerMiddleware
around ``app.wsgi_app`` and names each request by its URL rule
(``/users/<int:id>``), so `pyrometer view DIR` groups requests by route."""
from .wsgi import ProfilerMiddleware


def profile_app(app, **options):
    from flask import request

    def name_route():
        rule = request.url_rule
        if rule is not None:
            request.environ["pyrometer.route"] = rule.rule

    app.before_request(name_route)
    app.wsgi_app = ProfilerMiddleware(app.wsgi_app, **options)
    return app.wsgi_app
