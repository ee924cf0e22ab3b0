from django.apps import AppConfig

from clinics.registry import (
    ClinicSetup,
    clinic_guards,
    clinic_setup,
    demo_steps,
    usage_counters,
    waiting_work,
)


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # Imported here and not at the top: these modules use the models, which exist only
        # once every app is loaded. `schedules` registers its schedules as it is imported.
        from billing import demo, personal_data, schedules, usage  # noqa: F401, PLC0415
        from billing.documents import BILL_FILES, bill_verifier  # noqa: PLC0415
        from billing.razorpay import demo as razorpay_demo  # noqa: PLC0415
        from billing.razorpay.bill_links import BILL_LINKS  # noqa: PLC0415
        from billing.razorpay.handlers import payment_link_handlers  # noqa: PLC0415
        from billing.razorpay.processing import RAZORPAY_WEBHOOKS_WAITING  # noqa: PLC0415
        from billing.services.catalogue import catalogue_starter_load  # noqa: PLC0415
        from billing.services.documents import BILL_PDFS_WAITING  # noqa: PLC0415
        from billing.subscriptions.modes import SUBSCRIPTION_GUARD  # noqa: PLC0415
        from patients.shared_files import shared_file_kinds  # noqa: PLC0415
        from patients.verification import verifiers  # noqa: PLC0415

        personal_data.register()
        clinic_setup.register(ClinicSetup("billing.starter_catalogue", 50, catalogue_starter_load))
        demo_steps.register(demo.BILLING)
        demo_steps.register(razorpay_demo.RAZORPAY)
        waiting_work.register(BILL_PDFS_WAITING)
        waiting_work.register(RAZORPAY_WEBHOOKS_WAITING)
        clinic_guards.register(SUBSCRIPTION_GUARD)
        usage_counters.register(usage.BILL_PDFS_STORED)
        payment_link_handlers.register(BILL_LINKS)
        shared_file_kinds.register(BILL_FILES)
        if bill_verifier not in verifiers:
            verifiers.append(bill_verifier)
