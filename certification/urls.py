from django.urls import path

from certification.views import home

app_name = "certification"

urlpatterns = [
    path("", home.home, name="home"),
]
