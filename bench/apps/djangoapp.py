"""Minimal Django project in one module: one view rendering a template, no database."""
import os

import django
from django.conf import settings
from django.shortcuts import render
from django.urls import path

HERE = os.path.dirname(os.path.abspath(__file__))

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    # CommonMiddleware, as in every startproject, sets Content-Length:
    # without it uWSGI's --http11-socket can neither keep the connection
    # alive nor end the response, and its clients hang.
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    INSTALLED_APPS=[],
    DATABASES={},
    TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(HERE, "templates")],
    }],
)
django.setup()


def index(request):
    rows = [{"id": i, "name": "row %d" % i} for i in range(10)]
    return render(request, "index.html", {"title": "Hello, World!", "rows": rows})


urlpatterns = [path("", index)]

from django.core.wsgi import get_wsgi_application  # noqa: E402  after configure()

application = get_wsgi_application()
