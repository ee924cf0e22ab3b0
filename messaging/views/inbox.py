"""The WhatsApp inbox: the conversations list and a conversation's thread.

Views parse input, check the role's permission and call one service; every page runs inside
the clinic's scope. The list and the thread refresh themselves with htmx polling, so new
messages appear without a reload.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from clinics.web import add_domain_error, paginate_quick
from messaging import selectors
from messaging.models import Conversation, Message, MessagePurpose, MessageStatus
from messaging.services import inbox as services
from messaging.services import recovery, sending
from messaging.services.conversations import conversation_link
from messaging.template_purposes import PURPOSES, template_title
from patients.selectors import patient_list

LIST_TARGET = "conversation-list"
THREAD_TARGET = "thread-live"
LINK_MATCHES_TARGET = "link-matches"
MAX_LINK_MATCHES = 8
POLL_SECONDS = 5


# --- forms --------------------------------------------------------------------------------------
class ReplyForm(forms.Form):
    body = forms.CharField(label="Reply", max_length=4096, widget=forms.Textarea(attrs={"rows": 3}))


class TemplateSendForm(forms.Form):
    """An approved template and one value per placeholder ({{1}}, {{2}}, ...)."""

    template_id = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, template=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.template = template
        count = template.parameter_count if template is not None else 0
        purpose = PURPOSES.get(template.purpose) if template is not None else None
        names = purpose.parameters if purpose else ()
        for index in range(1, count + 1):
            named = names[index - 1].capitalize() if index <= len(names) else ""
            self.fields[f"param_{index}"] = forms.CharField(
                label=f"{named} {{{{{index}}}}}" if named else f"Value {{{{{index}}}}}",
                max_length=1024,
                error_messages={"required": "Every template value must be filled in."},
            )
        if template is not None:
            self.initial.setdefault("template_id", template.pk)

    @property
    def title(self) -> str:
        return template_title(self.template.name, self.template.language) if self.template else ""

    def values(self) -> list[str]:
        count = self.template.parameter_count if self.template is not None else 0
        return [self.cleaned_data[f"param_{i}"] for i in range(1, count + 1)]

    def param_fields(self):
        return [self[name] for name in self.fields if name.startswith("param_")]


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(
        label="Assigned to", coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.staff = {m.pk: m for m in staff}
        self.fields["assignee"].choices = [("", "Nobody")] + [
            (m.pk, m.user.full_name or m.user.email) for m in staff
        ]


class LinkForm(forms.Form):
    patient = forms.CharField(
        label="Patient",
        max_length=200,
        required=False,
        help_text="Patient number (P-000123), name or phone",
    )
    patient_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not data.get("patient_id") and not (data.get("patient") or "").strip():
            raise forms.ValidationError("Find the patient, then pick them.")
        return data


class ActionForm(forms.Form):
    """A button with no fields (resolve, reopen, send again): carries its errors."""


# --- helpers ------------------------------------------------------------------------------------
def _clinic_url(request: HttpRequest, name: str, *args) -> str:
    return reverse(name, args=[request.clinic.slug, *args])


def _for_conversation(*methods: str):
    """Give the view the conversation named by `conversation_id` (404 for another clinic's,
    before the method is checked), then allow only `methods`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, conversation_id: int, **kwargs) -> HttpResponse:
            try:
                conversation = selectors.conversation_detail(conversation_id=conversation_id)
            except Conversation.DoesNotExist:
                raise Http404("No such conversation") from None
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, conversation, **kwargs)

        return wrapper

    return decorator


def _htmx_target(request: HttpRequest) -> str | None:
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return htmx.target
    return None


def window_text(conversation: Conversation, now=None) -> str:
    """WhatsApp's 24-hour reply window in words: what staff can send, and for how long."""
    now = now or timezone.now()
    if not conversation.window_open(now):
        return (
            "Reply window closed: the patient has not written in the last 24 hours, so WhatsApp "
            "allows only approved templates until they write again."
        )
    minutes = int(conversation.window_left(now).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    left = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"Reply window open for {left}: you can write freely until then."


# --- the list -----------------------------------------------------------------------------------
@require_GET
@require_perm(Perm.MESSAGING_VIEW)
def inbox(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    if show not in selectors.INBOX_FILTER_VALUES:
        show = "open"
    page = paginate_quick(
        request, selectors.conversation_list(show=show, membership=request.membership), 30
    )
    previews = selectors.last_message_previews(conversation_ids=[c.pk for c in page])
    for conversation in page:
        conversation.preview = previews.get(conversation.pk)
    context = {
        "page": page,
        "show": show,
        "filters": selectors.INBOX_FILTERS,
        "list_target": LIST_TARGET,
        "list_params": urlencode({"show": show, "page": page.number}),
        "poll_seconds": POLL_SECONDS,
    }
    if _htmx_target(request) == LIST_TARGET:
        response = render(request, "messaging/partials/_conversation_list.html", context)
    else:
        response = render(request, "messaging/inbox.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    response["Cache-Control"] = "no-store"
    return response


# --- the thread ---------------------------------------------------------------------------------
def _thread_page(request: HttpRequest, conversation: Conversation, **forms_given) -> HttpResponse:
    can_send = request.membership.has_perm(Perm.MESSAGING_SEND)
    templates = list(selectors.approved_templates(clinic_id=conversation.clinic_id))
    failed_template = forms_given.pop("template_form", None)
    template_forms = [
        failed_template
        if failed_template is not None and failed_template.template.pk == t.pk
        else TemplateSendForm(template=t)
        for t in templates
    ]
    staff = selectors.messaging_staff() if can_send else []
    context = {
        "conversation": conversation,
        "thread_messages": selectors.thread_messages(conversation=conversation),
        "window_text": window_text(conversation),
        "window_open": conversation.window_open(),
        "can_send": can_send,
        "reply_form": forms_given.pop("reply_form", None) or ReplyForm(),
        "template_forms": template_forms,
        "open_template": failed_template.template.pk if failed_template is not None else None,
        "assign_form": forms_given.pop("assign_form", None)
        or AssignForm(initial={"assignee": conversation.assigned_to_id}, staff=staff),
        "link_form": forms_given.pop("link_form", None) or LinkForm(),
        "link_matches": forms_given.pop("link_matches", []),
        "action_form": forms_given.pop("action_form", None),
        "thread_target": THREAD_TARGET,
        "link_matches_target": LINK_MATCHES_TARGET,
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, "messaging/thread.html", context)


@require_perm(Perm.MESSAGING_VIEW)
@_for_conversation("GET")
def thread(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    if _htmx_target(request) == THREAD_TARGET:
        return thread_live(request, conversation)
    services.conversation_open(conversation=conversation, actor=request.user)
    response = _thread_page(request, conversation)
    response["Cache-Control"] = "no-store"
    return response


def thread_live(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    """The polled part of the thread: the window timer and the messages."""
    services.conversation_mark_read(conversation=conversation)
    context = {
        "conversation": conversation,
        "thread_messages": selectors.thread_messages(conversation=conversation),
        "window_text": window_text(conversation),
        "window_open": conversation.window_open(),
        "can_send": request.membership.has_perm(Perm.MESSAGING_SEND),
        "thread_target": THREAD_TARGET,
        "poll_seconds": POLL_SECONDS,
    }
    response = render(request, "messaging/partials/_thread_live.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    response["Cache-Control"] = "no-store"
    return response


def _to_thread(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    return redirect(_clinic_url(request, "messaging-thread", conversation.pk))


def _queued(request: HttpRequest, message: Message, done: str) -> None:
    # A message the clinic's plan held back is kept in the thread as not sent, with the reason.
    if message.status == MessageStatus.FAILED:
        flash.error(request, f"Not sent: {message.error_title}")
    else:
        flash.success(request, done)


@require_perm(Perm.MESSAGING_SEND)
@_for_conversation("POST")
def thread_reply(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            message = sending.message_queue_text(
                conversation=conversation, body=form.cleaned_data["body"], actor=request.user
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            _queued(request, message, "Reply queued.")
            return _to_thread(request, conversation)
    return _thread_page(request, conversation, reply_form=form)


@require_perm(Perm.MESSAGING_SEND)
@_for_conversation("POST")
def thread_send_template(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    template_id = request.POST.get("template_id", "")
    template = None
    if template_id.isdigit():
        template = (
            selectors.approved_templates(clinic_id=conversation.clinic_id)
            .filter(pk=int(template_id))
            .first()
        )
    if template is None:
        flash.error(request, "Choose one of the clinic's approved templates.")
        return _to_thread(request, conversation)
    form = TemplateSendForm(request.POST, template=template)
    if form.is_valid():
        # Inside the window a template is a reply; outside it the clinic writes first, which
        # needs the patient's opt-in to care messages.
        purpose = MessagePurpose.REPLY if conversation.window_open() else MessagePurpose.CARE
        try:
            message = sending.message_queue_template(
                template=template,
                actor=request.user,
                purpose=purpose,
                conversation=conversation,
                body_params=form.values(),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            _queued(request, message, f"Template {form.title} queued.")
            return _to_thread(request, conversation)
    return _thread_page(request, conversation, template_form=form)


@require_perm(Perm.MESSAGING_SEND)
@_for_conversation("POST")
def thread_assign(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    staff = selectors.messaging_staff()
    form = AssignForm(request.POST, staff=staff)
    if form.is_valid():
        assignee_id = form.cleaned_data["assignee"]
        try:
            services.conversation_assign(
                conversation=conversation,
                assignee=form.staff.get(assignee_id) if assignee_id else None,
                actor=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            flash.success(request, "Assignment saved.")
            return _to_thread(request, conversation)
    return _thread_page(request, conversation, assign_form=form)


def _state_action(service, done: str):
    @require_perm(Perm.MESSAGING_SEND)
    @_for_conversation("POST")
    def view(request: HttpRequest, conversation: Conversation) -> HttpResponse:
        form = ActionForm(request.POST)
        try:
            service(conversation=conversation, actor=request.user)
        except DomainError as exc:
            add_domain_error(form, exc)
            return _thread_page(request, conversation, action_form=form)
        flash.success(request, done)
        return _to_thread(request, conversation)

    return view


thread_resolve = _state_action(services.conversation_resolve, "Conversation resolved.")
thread_reopen = _state_action(services.conversation_reopen, "Conversation reopened.")
thread_no_reply_needed = _state_action(
    services.conversation_no_reply_needed, "Marked as needing no reply."
)


@require_perm(Perm.MESSAGING_SEND)
@_for_conversation("POST")
def message_resend(request: HttpRequest, conversation: Conversation, message_id: int):
    message = Message.objects.filter(pk=message_id, conversation=conversation).first()
    if message is None:
        raise Http404("No such message")
    form = ActionForm(request.POST)
    try:
        recovery.message_resend(message=message, actor=request.user)
    except DomainError as exc:
        add_domain_error(form, exc)
        return _thread_page(request, conversation, action_form=form)
    flash.success(request, "Sent again.")
    return _to_thread(request, conversation)


@require_perm(Perm.MESSAGING_SEND)
@_for_conversation("GET", "POST")
def thread_link(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    """Link an unknown number's conversation to a registered patient: find, pick, link."""
    if request.method == "GET":
        query = request.GET.get("patient", "").strip()[:200]
        matches = list(patient_list(query=query)[:MAX_LINK_MATCHES]) if query else []
        context = {"matches": matches, "query": query, "chosen": None}
        response = render(request, "patients/schedule/partials/_patient_matches.html", context)
        patch_vary_headers(response, ["HX-Request", "HX-Target"])
        return response
    form = LinkForm(request.POST)
    matches = []
    if form.is_valid():
        patient_id = form.cleaned_data.get("patient_id") or request.POST.get("patient_id")
        patient = None
        if patient_id and str(patient_id).isdigit():
            patient = patient_list().filter(pk=int(patient_id)).first()
            if patient is None:
                form.add_error("patient", "No such patient at this clinic.")
        else:
            matches = list(patient_list(query=form.cleaned_data["patient"])[:MAX_LINK_MATCHES])
            if not matches:
                form.add_error("patient", "No patient matches: check the number or the name.")
            else:
                form.add_error("patient", "Pick the patient from the list.")
        if patient is not None:
            try:
                conversation_link(conversation=conversation, patient=patient, actor=request.user)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                flash.success(request, f"Linked to {patient.full_name}.")
                return _to_thread(request, conversation)
    return _thread_page(request, conversation, link_form=form, link_matches=matches)
