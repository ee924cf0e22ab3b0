from django.apps import AppConfig

from clinics.registry import demo_steps, report_sources, usage_counters, waiting_work


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        # Imported here and not at the top: these modules use the models, which exist only
        # once every app is loaded. `schedules`, `care_replies` and `refills` register as they
        # are imported.
        from compliance.erasure.steps import erasure_steps  # noqa: PLC0415
        from compliance.purge import erasure_notice_senders  # noqa: PLC0415
        from compliance.verification import code_senders  # noqa: PLC0415
        from messaging import demo, personal_data, reports, schedules, usage  # noqa: F401, PLC0415
        from messaging.services import care_replies  # noqa: F401, PLC0415
        from messaging.services.bill_documents import on_care_event as send_bills  # noqa: PLC0415
        from messaging.services.erasure import WHATSAPP_STOP  # noqa: PLC0415
        from messaging.services.erasure_notices import WHATSAPP_ERASURE_NOTICE  # noqa: PLC0415
        from messaging.services.payment_links import on_care_event as send_payment_links  # noqa: PLC0415
        from messaging.services.recovery import MESSAGES_WAITING  # noqa: PLC0415
        from messaging.services.refills import on_care_event as plan_refills  # noqa: PLC0415
        from messaging.services.refills import refill_notes  # noqa: PLC0415
        from messaging.services.reminder_notes import reminder_plan_notes  # noqa: PLC0415
        from messaging.services.reminders import on_care_event  # noqa: PLC0415
        from messaging.services.verification_codes import WHATSAPP_CODES  # noqa: PLC0415
        from messaging.services.webhook_backlog import WEBHOOKS_WAITING  # noqa: PLC0415
        from patients.events import register_care_listener  # noqa: PLC0415
        from patients.prescription_notes import register_prescription_notes  # noqa: PLC0415

        demo_steps.register(demo.WHATSAPP)
        report_sources.register(reports.REPORTS)
        register_care_listener(on_care_event)
        register_care_listener(plan_refills)
        register_care_listener(send_payment_links)
        register_care_listener(send_bills)
        register_prescription_notes("messaging.reminder_plan", reminder_plan_notes)
        register_prescription_notes("messaging.refill_plan", refill_notes)
        waiting_work.register(WEBHOOKS_WAITING)
        waiting_work.register(MESSAGES_WAITING)
        usage_counters.register(usage.MESSAGES_SENT)
        usage_counters.register(usage.MEDIA_STORED)
        code_senders.register(WHATSAPP_CODES)
        erasure_steps.register(WHATSAPP_STOP)
        personal_data.register()
        erasure_notice_senders.register(WHATSAPP_ERASURE_NOTICE)
