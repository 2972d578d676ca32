from django.urls import path

from accounts.api.v1 import views

urlpatterns = [
    path("auth/token/", views.TokenCreateApi.as_view(), name="auth-token"),
    path("auth/tokens/", views.TokenListApi.as_view(), name="auth-token-list"),
    path("auth/tokens/<int:token_id>/", views.TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("me/", views.MeApi.as_view(), name="me"),
    path("teams/", views.TeamListApi.as_view(), name="team-list"),
    path("teams/<int:team_id>/", views.TeamDetailApi.as_view(), name="team-detail"),
    path("users/", views.UserListApi.as_view(), name="user-list"),
    path("users/<int:user_id>/", views.UserDetailApi.as_view(), name="user-detail"),
]
