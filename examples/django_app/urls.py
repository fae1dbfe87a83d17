from django.urls import path  # type: ignore[import-untyped]

from examples.django_app import views

urlpatterns = [path("signup", views.signup, name="signup")]
