"""Verifiable credentials: the holder's downloads, public verification, the issuer's keys."""

from django.urls import path

from certification.views import credentials

urlpatterns = [
    path(
        "certifications/<int:certification_id>/credential.jwt",
        credentials.credential_download,
        name="credential_download",
    ),
    path(
        "certifications/<int:certification_id>/certificate.pdf",
        credentials.certificate_download,
        name="certificate_download",
    ),
    path("verify/<uuid:public_id>/", credentials.verify, name="verify"),
    path("verify/<uuid:public_id>/status/", credentials.verify_status, name="verify_status"),
    path(".well-known/jwks.json", credentials.jwks, name="jwks"),
]
