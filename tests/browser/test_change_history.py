"""The change history on a phone: the section fits a 390 px wide screen, long values wrap."""

import pytest

from applicants.services import applicant_update, application_update

pytestmark = pytest.mark.browser


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_the_change_history_fits_a_phone(live_server, phone_page, screenshot, application):
    for step in range(3):
        application_update(
            application=application,
            data={
                "purpose": "A very long purpose " * 8 + str(step),
                "requested_amount": 9000 + step,
            },
            inputs=application.inputs,
        )
    applicant_update(applicant=application.applicant, data={"national_id": "ZZ 111111 Z"})
    page = phone_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", application.applicant.owner.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/applications/{application.pk}/")
    section = page.locator("section:has(h2#change-history)")
    section.scroll_into_view_if_needed()
    screenshot(page, "change-history-390px")
    assert section.locator("ol.history > li").count() >= 4
    overflow = section.evaluate("s => s.scrollWidth - s.clientWidth")
    assert overflow <= 0, f"the history is {overflow}px wider than its card"
    assert "111111" not in page.content() and "changed" in section.inner_text()
