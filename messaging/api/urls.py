"""Messaging API under /api/v1/."""

from django.urls import path

from messaging.api import views

urlpatterns = [
    path("conversations/", views.ConversationListView.as_view(), name="api-conversation-list"),
    path(
        "conversations/<int:conversation_id>/messages/",
        views.ConversationMessagesView.as_view(),
        name="api-conversation-messages",
    ),
    path(
        "conversations/<int:conversation_id>/templates/",
        views.ConversationTemplateSendView.as_view(),
        name="api-conversation-template-send",
    ),
    path("reminders/", views.ReminderListView.as_view(), name="api-reminder-list"),
    path(
        "reminders/<int:reminder_id>/cancel/",
        views.ReminderCancelView.as_view(),
        name="api-reminder-cancel",
    ),
    path(
        "patients/<int:patient_id>/consent/",
        views.PatientConsentView.as_view(),
        name="api-patient-consent",
    ),
]
