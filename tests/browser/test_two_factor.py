"""A credit manager signs in on a phone-sized screen (390 px) with two-factor required: sets up
an authenticator from the setup page, keeps the backup codes, and next time gives a code —
in chromium, against a live server. Screenshots go to test-artifacts/."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def code_of(device: TOTPDevice, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{value:0{device.digits}d}"


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_manager_sets_up_two_factor_on_a_phone(live_server, browser, screenshot, manager, settings):
    settings.CREDITPORTAL_REQUIRE_2FA = True
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_server, manager)
        page.wait_for_url("**/accounts/two-factor/setup/**")
        assert page.is_visible("img.qr-code")
        assert page.locator("img.qr-code").evaluate("img => img.naturalWidth > 0")
        code_input = page.locator("#id_totp-code")
        assert code_input.get_attribute("autocomplete") == "one-time-code"
        assert code_input.get_attribute("inputmode") == "numeric"
        assert page.locator("label[for=id_totp-code]").is_visible()
        assert fits_the_screen(page)
        page.click("summary:has-text('Cannot scan it')")
        secret = page.inner_text("#secret").replace(" ", "")
        device = TOTPDevice.objects.get(user=manager, confirmed=False)
        assert len(secret) == 32
        screenshot(page, "two-factor-setup-390")

        # Every other page brings the manager back here.
        page.goto(f"{live_server.url}/dashboard/")
        page.wait_for_url("**/accounts/two-factor/setup/**")

        page.fill("#id_totp-code", "000000" if code_of(device) != "000000" else "111111")
        page.click("button:has-text('Turn on two-factor')")
        page.wait_for_selector(".error-summary")
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
        page.fill("#id_totp-code", code_of(device))
        page.click("button:has-text('Turn on two-factor')")
        page.wait_for_selector("h1:has-text('Two-factor authentication is on')")
        assert page.locator("ul.backup-codes li").count() == 10
        assert fits_the_screen(page)
        screenshot(page, "two-factor-backup-codes-390")
        page.click("text=I have kept them: continue")
        page.wait_for_url("**/dashboard/")

        # Next sign-in: the code after the password.
        page.click("button:has-text('Log out')")
        page.wait_for_url("**/accounts/login/**")
        sign_in(page, live_server, manager)
        page.wait_for_url("**/accounts/two-factor/verify/**")
        assert fits_the_screen(page)
        screenshot(page, "two-factor-verify-390")
        page.fill("#id_totp-code", code_of(device, steps_ahead=1))
        page.click("button:has-text('Continue')")
        page.wait_for_url("**/applicants/")
    finally:
        context.close()
