"""Enablement pages for deals from the CRM: list, import, export, exchange rates."""

from django.urls import URLPattern, path

from certification.views import deals as views

urlpatterns: list[URLPattern] = [
    path("manage/deals/", views.deal_list, name="manage_deals"),
    path("manage/deals/import/", views.deal_import, name="manage_deal_import"),
    path("manage/deals/export.csv", views.deal_export, name="manage_deal_export"),
    path("manage/deals/rates/", views.currency_rate_list, name="manage_deal_rates"),
    path(
        "manage/deals/rates/<int:rate_id>/",
        views.currency_rate_edit,
        name="manage_deal_rate_edit",
    ),
]
