"""A reveal link forwarded outside the group: the answer is shared, the group's board is not."""

from __future__ import annotations

from bot.adapters.telegram.render import visible_text
from bot.core.i18n import t
from bot.core.models import ChatRef
from tests.telegram.conftest import HarnessFactory
from tests.telegram.fake_botapi import FakeBotApi, buttons, group_chat, private_chat
from tests.telegram.test_telegram_e2e import GROUP, press, say, subscribed_and_pushed

CAROL = 33  # not in the group; someone forwarded her the link


async def test_an_outsider_with_a_forwarded_link_sees_the_answer_but_grades_privately(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    payload = buttons(post)[0][0]["callback_data"]
    botapi.members[(GROUP, CAROL)] = "left"
    answer = await say(botapi, private_chat(CAROL), CAROL, f"/start {payload}")
    assert "KV Cache" in answer["text"]  # the question was shared with her
    graded = await press(h, CAROL, answer, 0, 0)
    assert t("zh", "graded_outside") in graded["text"]
    top = await say(botapi, group_chat(GROUP), CAROL, "/top")
    assert "User33" not in visible_text(top["text"]) and str(CAROL) not in top["text"]
    mine = await say(botapi, private_chat(CAROL), CAROL, "/streak")
    assert t("zh", "streak_current", n=1) in visible_text(mine["text"])
    group = await h.app.store.get_chat(ChatRef("telegram", str(GROUP)))
    assert group is not None
    assert await h.app.store.chat_members_days(group.pk) == []


async def test_membership_is_asked_once_a_minute_not_per_press(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    payload = buttons(post)[0][0]["callback_data"]
    answer = await say(botapi, private_chat(CAROL), CAROL, f"/start {payload}")
    before = len(botapi.calls_to("getChatMember"))
    for col in range(3):
        await press(h, CAROL, answer, 0, col)
    assert len(botapi.calls_to("getChatMember")) - before == 1
