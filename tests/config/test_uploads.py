"""Uploads stay in memory: no temporary file, nothing under the client's file name, and a
body over the limit is refused unread, leaving nothing behind."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.urls import reverse

from certification.models import Question
from tests.factories.certification import BankFactory

pytestmark = pytest.mark.django_db

# A valid GIFT question, padded with comments to pass Django's 2.5 MB in-memory threshold.
ONE_QUESTION = b"::One::Pick A.{=A ~B}\n"


def _gift_of(size: int) -> bytes:
    padding = b"// padding line to make the file large\n"
    return ONE_QUESTION + padding * ((size - len(ONE_QUESTION)) // len(padding) + 1)


@pytest.fixture
def temporary_files(monkeypatch):
    """Every temporary upload file Django would create, by the name it was given."""
    made: list[str] = []
    original = TemporaryUploadedFile.__init__

    def record(self, name, *args, **kwargs):
        made.append(name)
        original(self, name, *args, **kwargs)

    monkeypatch.setattr(TemporaryUploadedFile, "__init__", record)
    return made


def test_a_large_upload_is_read_in_memory_never_into_a_temporary_file(
    api_client, org, temporary_files, tmp_path, settings
):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    bank = BankFactory()
    api_client.force_authenticate(org.enablement)
    data = _gift_of(3 * 1024 * 1024)  # over Django's 2.5 MB FILE_UPLOAD_MAX_MEMORY_SIZE
    response = api_client.post(
        reverse("api-v1:manage-bank-import", args=[bank.pk]),
        {"file": SimpleUploadedFile("../../etc/evil name.gift", data)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert Question.objects.filter(bank=bank).count() == 1
    assert temporary_files == []
    assert list(tmp_path.iterdir()) == []


def test_a_body_over_the_limit_is_refused_unread_and_writes_nothing(
    api_client, org, temporary_files, tmp_path, settings
):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    bank = BankFactory()
    api_client.force_authenticate(org.enablement)
    response = api_client.post(
        reverse("api-v1:manage-bank-import", args=[bank.pk]),
        {"file": SimpleUploadedFile("big.gift", _gift_of(2 * 1024 * 1024))},
        format="multipart",
    )
    assert response.status_code == 400
    assert not Question.objects.exists()
    assert temporary_files == []
    assert list(tmp_path.iterdir()) == []


def test_the_format_is_read_from_the_content_not_the_name(api_client, org):
    bank = BankFactory()
    api_client.force_authenticate(org.enablement)
    xml = (
        b'<?xml version="1.0"?><quiz><question type="truefalse"><name><text>TF</text></name>'
        b'<questiontext format="html"><text>Sky is blue?</text></questiontext>'
        b'<answer fraction="100"><text>true</text></answer>'
        b'<answer fraction="0"><text>false</text></answer></question></quiz>'
    )
    response = api_client.post(
        reverse("api-v1:manage-bank-import", args=[bank.pk]),
        {"file": SimpleUploadedFile("looks-like.gift", xml), "dry_run": "true"},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert response.json()["format"] == "moodle-xml"
