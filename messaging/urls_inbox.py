"""The inbox and the follow-up board (/c/<clinic_slug>/messages/)."""

from django.urls import path

from messaging.views import board, inbox

urlpatterns = [
    path("", inbox.inbox, name="messaging-inbox"),
    path("<int:conversation_id>/", inbox.thread, name="messaging-thread"),
    path("<int:conversation_id>/reply/", inbox.thread_reply, name="messaging-reply"),
    path(
        "<int:conversation_id>/template/",
        inbox.thread_send_template,
        name="messaging-send-template",
    ),
    path("<int:conversation_id>/assign/", inbox.thread_assign, name="messaging-assign"),
    path("<int:conversation_id>/resolve/", inbox.thread_resolve, name="messaging-resolve"),
    path("<int:conversation_id>/reopen/", inbox.thread_reopen, name="messaging-reopen"),
    path(
        "<int:conversation_id>/no-reply-needed/",
        inbox.thread_no_reply_needed,
        name="messaging-no-reply-needed",
    ),
    path("<int:conversation_id>/link/", inbox.thread_link, name="messaging-link"),
    path(
        "<int:conversation_id>/messages/<int:message_id>/resend/",
        inbox.message_resend,
        name="messaging-resend",
    ),
    path("follow-ups/", board.board, name="messaging-board"),
    path(
        "follow-ups/alerts/<int:escalation_id>/resolve/",
        board.escalation_resolve_view,
        name="messaging-escalation-resolve",
    ),
    path(
        "follow-ups/alerts/<int:escalation_id>/acknowledge/",
        board.escalation_acknowledge_view,
        name="messaging-escalation-acknowledge",
    ),
]
