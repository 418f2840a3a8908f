"""Settings of the Django project of wsgi/frameworks_test.go.

No database: sessions live in signed cookies.  DEBUG is off, as in
production, so that errors, 404s and CSRF failures look as users see them.
"""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# Public on purpose: this test project protects nothing.
SECRET_KEY = "gowsgi-frameworks-test-not-secret"
DEBUG = False
# The test server listens on 127.0.0.1; any other Host is refused (400).
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

ROOT_URLCONF = "djangoapp.urls"
WSGI_APPLICATION = "djangoapp.wsgi.application"
INSTALLED_APPS = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
    }
]
DATABASES = {}
USE_TZ = True

# Tracebacks of server errors go to stderr, which is the server's log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
