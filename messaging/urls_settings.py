"""WhatsApp connection, templates and messaging settings (/c/<clinic_slug>/messages/settings/)."""

urlpatterns = []
