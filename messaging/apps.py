from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        from messaging import (
            demo,  # noqa: F401 - registers the demo seeder
            schedules,  # noqa: F401 - registers the schedules
        )
        from messaging.services import care_replies  # noqa: F401 - registers reply handlers
        from messaging.services.reminders import on_care_event
        from patients.events import register_care_listener

        register_care_listener(on_care_event)
