"""A one-file Django project served through get_asgi_application()."""

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="test only",
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["*"],
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)

import asyncio  # noqa: E402

from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


async def hello(request, name):
    await asyncio.sleep(0)
    return JsonResponse({"hello": name, "async": True, "path": request.path,
                         "script_name": request.META.get("SCRIPT_NAME"),
                         "q": request.GET.get("q")})


def sync_view(request):
    return JsonResponse({"sync": True, "method": request.method,
                         "body": request.body.decode()})


urlpatterns = [path("hello/<name>", hello), path("sync", sync_view)]

application = get_asgi_application()
