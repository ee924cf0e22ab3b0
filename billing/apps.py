from django.apps import AppConfig

from clinics.registry import clinic_guards, demo_steps, waiting_work


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # Imported here and not at the top: these modules use the models, which exist only
        # once every app is loaded. `schedules` registers its schedules as it is imported.
        from billing import demo, schedules  # noqa: F401, PLC0415
        from billing.razorpay.processing import RAZORPAY_WEBHOOKS_WAITING  # noqa: PLC0415
        from billing.subscriptions.modes import SUBSCRIPTION_GUARD  # noqa: PLC0415

        waiting_work.register(RAZORPAY_WEBHOOKS_WAITING)
        clinic_guards.register(SUBSCRIPTION_GUARD)
        demo_steps.register(demo.RAZORPAY)
