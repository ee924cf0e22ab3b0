"""URLs outside any clinic: sign-in, account, clinic switcher, invitations."""

from django.urls import path

from clinics.views import auth, main, staff

urlpatterns = [
    path("", main.home, name="home"),
    path("clinics/", main.clinic_switch, name="clinic-switch"),
    path("accounts/login/", auth.sign_in, name="login"),
    path("accounts/login/code/", auth.sign_in_code, name="login-otp"),
    path("accounts/logout/", auth.sign_out, name="logout"),
    path("accounts/password_reset/", auth.password_reset, name="password_reset"),
    path("accounts/password_reset/done/", auth.password_reset_done, name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth.password_reset_complete, name="password_reset_complete"),
    path("account/security/", auth.account_security, name="account-security"),
    path("account/security/two-factor/", auth.two_factor_setup, name="two-factor-setup"),
    path(
        "account/security/two-factor/disable/",
        auth.two_factor_disable,
        name="two-factor-disable",
    ),
    path("invite/<str:token>/", staff.invitation_accept, name="invitation-accept"),
]
