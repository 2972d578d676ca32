"""Pages for levels 2 and 3 as the participants use them: reps, judges, role-players, managers."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
