"""Enablement pages for deals from the CRM: the list, the CSV import (with a column-mapping
step), the CSV export and the exchange rates.

Every page is for enablement leads only (404 for anyone else). The import uses the same
service as ``import_deals`` and the API. Between its steps (upload, map the columns, preview,
confirm) the uploaded file is kept in the cache, compressed, under the user's id and a random
token, for 30 minutes: it is never written to disk nor stored under the name it was uploaded
with, only its uploader can use it, and it is dropped as soon as it is imported or rejected.
"""

from __future__ import annotations

import csv
import re
import secrets
import zlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.files.uploadhandler import SkipFile
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.decorators import rule_required
from certification import rules
from certification.forms_deals import (
    CurrencyRateForm,
    DealFilterForm,
    DealMappingForm,
    DealUploadForm,
)
from certification.importers.deals import (
    CANONICAL,
    MissingColumnsError,
    check_size,
    column_positions,
    neutralise,
    read_header,
)
from certification.models import CurrencyRate
from certification.selectors.deals import (
    currency_rates,
    deal_mappings,
    deals_for_enablement,
    deals_for_export,
)
from certification.services.deals import (
    DealImportResult,
    currency_rate_set,
    deal_mapping_clean,
    deal_mapping_save,
    deals_import_file,
)
from certification.views.authoring import (
    AuthorRequest,
    InMemoryUpload,
    _apply_errors,
    _filters,
    _paginate,
)
from config.errors import ApplicationError

IMPORT_TTL_SECONDS = 30 * 60
REJECTED_SHOWN = 1000
_IMPORT_KEY = "repready:deals:import:{user_id}:{token}"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
_TEMPLATE = "certification/manage/deal_import.html"


# The list and the export ------------------------------------------------------------------------


@rule_required(rules.can_manage_deals)
def deal_list(request: AuthorRequest) -> HttpResponse:
    """Every imported deal, newest close date first, filtered by rep or id and stage."""
    filter_form = DealFilterForm(request.GET or None)
    filters = _filters(filter_form)
    deals = deals_for_enablement(text=filters.get("q", ""), stage=filters.get("stage", ""))
    page, query = _paginate(request, deals)
    return render(
        request,
        "certification/manage/deal_list.html",
        {
            "filter_form": filter_form,
            "filtered": any(filters.values()),
            "page": page,
            "query": query,
            "base_currency": settings.BASE_CURRENCY,
        },
    )


class _Echo:
    """A file that hands back what is written to it, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


@rule_required(rules.can_manage_deals)
def deal_export(request: AuthorRequest) -> StreamingHttpResponse:
    """The (filtered) deals as CSV, canonical columns first. A text cell that a spreadsheet
    would run as a formula (= + - @) is written with a leading single quote."""
    filters = _filters(DealFilterForm(request.GET or None))
    rows = deals_for_export(text=filters.get("q", ""), stage=filters.get("stage", ""))
    writer = csv.writer(_Echo())
    base = settings.BASE_CURRENCY.lower()

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow([*CANONICAL, "rep_name", f"amount_{base}"])
        for row in rows:
            yield writer.writerow([neutralise(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="deals-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# The import -------------------------------------------------------------------------------------


class DealUpload(InMemoryUpload):
    """Keep an uploaded deals file in memory, never in a temporary file, up to the limit."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > settings.DEALS_IMPORT_MAX_BYTES:
            self.too_large = True
            raise SkipFile
        self.buffer.write(raw_data)


def _key(request: AuthorRequest, token: str) -> str:
    return _IMPORT_KEY.format(user_id=request.user.pk, token=token)


def _stash(request: AuthorRequest, entry: dict[str, Any], token: str | None = None) -> str:
    token = token or secrets.token_urlsafe(32)
    cache.set(_key(request, token), entry, IMPORT_TTL_SECONDS)
    return token


def _unstash(request: AuthorRequest) -> tuple[str, dict[str, Any] | None]:
    token = request.POST.get("token", "")
    entry = cache.get(_key(request, token)) if _TOKEN.fullmatch(token) else None
    return token, entry


def _limits() -> dict[str, Any]:
    return {
        "limit_mb": settings.DEALS_IMPORT_MAX_BYTES // (1024 * 1024),
        "limit_rows": settings.DEALS_IMPORT_MAX_ROWS,
        "base_currency": settings.BASE_CURRENCY,
    }


@rule_required(rules.can_manage_deals)
@csrf_exempt  # only so the upload handler can be set before the body is read; see below
def deal_import(request: AuthorRequest) -> HttpResponse:
    """Upload a CRM export, map its columns if they are not the canonical ones, preview what
    it changes (or every bad row), then confirm the import."""
    handler = DealUpload(request)
    request.upload_handlers = [handler]
    return _deal_import(request, handler)


@csrf_protect
def _deal_import(request: AuthorRequest, handler: DealUpload) -> HttpResponse:
    context: dict[str, Any] = _limits()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "upload":
        return _upload(request, handler, context)
    if action in {"map", "confirm", "cancel"}:
        token, entry = _unstash(request)
        if entry is None:
            context["error"] = "This import has expired or is not yours. Upload the file again."
        elif action == "cancel":
            cache.delete(_key(request, token))
            messages.info(request, "Import cancelled: nothing was imported.")
            return redirect("certification:manage_deal_import")
        elif action == "map":
            return _map_columns(request, token, entry, context)
        else:
            return _confirm(request, token, entry, context)
    context["form"] = DealUploadForm(mappings=deal_mappings())
    return render(request, _TEMPLATE, context)


def _upload(request: AuthorRequest, handler: DealUpload, context: dict[str, Any]) -> HttpResponse:
    form = DealUploadForm(request.POST, request.FILES, mappings=deal_mappings())
    context["form"] = form
    if handler.too_large:
        form.add_error("file", f"The file is larger than the {context['limit_mb']} MB limit.")
    if not form.is_valid():
        return render(request, _TEMPLATE, context)
    upload = form.cleaned_data["file"]
    data = upload.read()
    saved = form.cleaned_data["mapping"]
    entry = {
        "data": zlib.compress(data, 1),
        "filename": upload.name[:120],
        "mapping": saved.columns if saved else None,
    }
    try:
        check_size(len(data), limit=settings.DEALS_IMPORT_MAX_BYTES)
        column_positions(read_header(data), entry["mapping"])
    except MissingColumnsError as missing:
        form = DealMappingForm(header=missing.header, mapping=entry["mapping"])
        return _render_mapping(
            request, context, token=_stash(request, entry), entry=entry, form=form, missing=missing
        )
    except ApplicationError as error:
        context["error"] = error.message
        return render(request, _TEMPLATE, context)
    return _preview(request, _stash(request, entry), entry, context)


def _render_mapping(
    request: AuthorRequest,
    context: dict[str, Any],
    *,
    token: str,
    entry: dict[str, Any],
    form: DealMappingForm,
    missing: MissingColumnsError | None = None,
) -> HttpResponse:
    context.update(
        step="map",
        token=token,
        filename=entry["filename"],
        mapping_form=form,
        missing_message=missing.message if missing else "",
    )
    return render(request, _TEMPLATE, context)


def _map_columns(
    request: AuthorRequest, token: str, entry: dict[str, Any], context: dict[str, Any]
) -> HttpResponse:
    header = read_header(zlib.decompress(entry["data"]))
    form = DealMappingForm(request.POST, header=header)
    if form.is_valid():
        try:
            columns = deal_mapping_clean(form.columns())
            if form.cleaned_data["save_as"].strip():
                saved = deal_mapping_save(
                    name=form.cleaned_data["save_as"], columns=columns, actor=request.user
                )
                messages.success(request, f"Mapping “{saved.name}” is saved for next time.")
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            entry["mapping"] = columns
            _stash(request, entry, token)
            return _preview(request, token, entry, context)
    return _render_mapping(request, context, token=token, entry=entry, form=form)


def _run(request: AuthorRequest, entry: dict[str, Any], *, dry_run: bool) -> DealImportResult | str:
    """The import's result, or the message of a file that cannot be read."""
    try:
        return deals_import_file(
            data=zlib.decompress(entry["data"]),
            mapping=entry["mapping"],
            dry_run=dry_run,
            actor=request.user,
            source="upload",
        )
    except ApplicationError as error:
        return error.message


def _show_result(
    request: AuthorRequest,
    context: dict[str, Any],
    entry: dict[str, Any],
    result: DealImportResult | str,
) -> HttpResponse:
    context["filename"] = entry["filename"]
    if isinstance(result, str):
        context["error"] = result
    else:
        context.update(
            step="rejected",
            result=result,
            rejected=result.rejected[:REJECTED_SHOWN],
            more=max(0, len(result.rejected) - REJECTED_SHOWN),
        )
    context["form"] = DealUploadForm(mappings=deal_mappings())
    return render(request, _TEMPLATE, context)


def _preview(
    request: AuthorRequest, token: str, entry: dict[str, Any], context: dict[str, Any]
) -> HttpResponse:
    result = _run(request, entry, dry_run=True)
    if isinstance(result, str) or result.rejected:
        cache.delete(_key(request, token))
        return _show_result(request, context, entry, result)
    if not (result.created or result.updated):
        cache.delete(_key(request, token))
        token = ""
    context.update(step="preview", token=token, result=result, filename=entry["filename"])
    return render(request, _TEMPLATE, context)


def _confirm(
    request: AuthorRequest, token: str, entry: dict[str, Any], context: dict[str, Any]
) -> HttpResponse:
    cache.delete(_key(request, token))  # one confirmation per preview, whatever happens next
    result = _run(request, entry, dry_run=False)
    if isinstance(result, str) or result.rejected:
        return _show_result(request, context, entry, result)
    messages.success(
        request,
        f"Imported {result.imported} deal{'s' if result.imported != 1 else ''} from "
        f"{entry['filename']}: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} already up to date.",
    )
    return redirect("certification:manage_deals")


# Exchange rates ---------------------------------------------------------------------------------


@rule_required(rules.can_manage_deals)
def currency_rate_list(request: AuthorRequest) -> HttpResponse:
    """The exchange rates deals are converted at, and a form to add one."""
    form = CurrencyRateForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rate = currency_rate_set(**form.cleaned_data, actor=request.user)
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"1 {rate.currency} = {rate.rate_to_base.normalize():f}.")
            return redirect("certification:manage_deal_rates")
    return render(
        request,
        "certification/manage/currency_rate_list.html",
        {"form": form, "rates": currency_rates(), "base_currency": settings.BASE_CURRENCY},
    )


@rule_required(rules.can_manage_deals)
def currency_rate_edit(request: AuthorRequest, rate_id: int) -> HttpResponse:
    """Change a currency's rate; deals imported later are converted at it."""
    rate = get_object_or_404(CurrencyRate, pk=rate_id)
    form = CurrencyRateForm(
        data=request.POST or None, editing=rate, initial={"rate_to_base": rate.rate_to_base}
    )
    if request.method == "POST" and form.is_valid():
        try:
            currency_rate_set(
                currency=rate.currency,
                rate_to_base=form.cleaned_data["rate_to_base"],
                actor=request.user,
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"The {rate.currency} rate is saved.")
            return redirect("certification:manage_deal_rates")
    return render(
        request,
        "certification/manage/currency_rate_form.html",
        {"form": form, "rate": rate, "base_currency": settings.BASE_CURRENCY},
    )
