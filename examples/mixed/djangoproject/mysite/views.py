import platform

import django
from django.shortcuts import render


def index(request):
    return render(
        request,
        "index.html",
        {
            "django_version": django.get_version(),
            "python_version": platform.python_version(),
            "script_name": request.META.get("SCRIPT_NAME", ""),
            "path": request.path,
        },
    )
