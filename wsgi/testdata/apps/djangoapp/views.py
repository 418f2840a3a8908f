"""Views of the test project; they answer JSON where the test looks inside."""

import hashlib
import os

from django import forms
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

# The Container's SpoolDir, which the test sets: the upload view lists it
# to show that a big body reached Django from a spooled file.
SPOOL_DIR = os.environ.get("DJANGOAPP_SPOOL_DIR", "")


def index(request):
    return render(request, "index.html", {"name": request.GET.get("name")})


class MessageForm(forms.Form):
    name = forms.CharField(max_length=100)
    message = forms.CharField()


def form(request):
    """The form page (GET), and its CSRF-protected POST."""
    if request.method != "POST":
        return render(request, "form.html", {"form": MessageForm()})
    f = MessageForm(request.POST)
    if not f.is_valid():
        return JsonResponse({"errors": f.errors}, status=400)
    return JsonResponse(f.cleaned_data)


def upload(request):
    """What arrived in a multipart/form-data upload (CSRF applies)."""
    files = {}
    for name, uploaded in request.FILES.items():
        digest = hashlib.sha256()
        size = 0
        for chunk in uploaded.chunks():
            digest.update(chunk)
            size += len(chunk)
        files[name] = {
            "filename": uploaded.name,
            "size": size,
            "sha256": digest.hexdigest(),
        }
    spooled = 0
    if SPOOL_DIR:
        spooled = sum(n.startswith("gowsgi-body-")
                      for n in os.listdir(SPOOL_DIR))
    return JsonResponse({
        "fields": request.POST.dict(),
        "files": files,
        "content_length": request.META.get("CONTENT_LENGTH"),
        "spooled": spooled,
    })


def count(request):
    """A counter in the session, which lives in a signed cookie."""
    request.session["n"] = request.session.get("n", 0) + 1
    return JsonResponse({"n": request.session["n"]})


def old(request):
    return redirect("index")


def cafe(request):
    return JsonResponse({
        "path": request.path,
        "path_info": request.path_info,
        "reverse": reverse("cafe"),
    })


def meta(request):
    keys = ["SCRIPT_NAME", "PATH_INFO", "REMOTE_ADDR", "SERVER_NAME",
            "SERVER_PORT", "HTTP_HOST", "QUERY_STRING", "REQUEST_METHOD"]
    return JsonResponse({
        "meta": {k: request.META.get(k) for k in keys},
        "path": request.path,
        "host": request.get_host(),
        "absolute_uri": request.build_absolute_uri(),
        "secure": request.is_secure(),
    })


def boom(request):
    return JsonResponse({"never": 1 / 0})
