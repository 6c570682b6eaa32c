"""Every user-facing sentence, in Chinese (zh, the default) and English (en).

A sentence with a count takes it as `n` and, where the language has plural forms, gives one text
per CLDR plural category (``{"one": "1 day", "other": "{n} days"}``); Babel's CLDR rules pick
the form, so "1 day" and "2 days" need no string tricks. Chinese has one form.
"""

from __future__ import annotations

from functools import cache

from babel import Locale

LANGUAGES = ("zh", "en")

Text = str | dict[str, str]  # one text, or one per plural category ("one", "other", ...)

_CATALOG: dict[str, dict[str, Text]] = {
    "welcome": {
        "zh": "你好！我是学习机器人：每天推送一道大模型 / 机器学习面试题。"
              "点“查看答案”只有你自己能看到答案，"
              "然后给自己打分，坚持打卡。",
        "en": "Hi! I push one LLM / machine-learning interview question every day. "
              "Tap “Show answer” to see it privately, then grade yourself and keep your streak.",
    },
    "help_title": {"zh": "可用命令", "en": "Commands"},
    "help_subscribe": {
        "zh": "/subscribe [HH:MM] [地区/城市] — 每天在本地时间推送一题（默认 09:00 {zone}）",
        "en": "/subscribe [HH:MM] [Area/City] — a daily question at that local time "
              "(default 09:00 {zone})",
    },
    "help_unsubscribe": {
        "zh": "/unsubscribe — 停止每日推送", "en": "/unsubscribe — stop the daily push"},
    "help_today": {"zh": "/today — 今天的题目", "en": "/today — today's question"},
    "help_streak": {"zh": "/streak — 你的连续打卡", "en": "/streak — your streak"},
    "help_top": {"zh": "/top [hide|show] — 本群排行榜（hide：不显示你；show：重新显示）",
                 "en": "/top [hide|show] — this chat's leaderboard (hide or show yourself)"},
    "help_lang": {"zh": "/lang zh|en — 切换语言", "en": "/lang zh|en — switch language"},
    "help_pack": {
        "zh": "/pack [题库…|all] — 查看或选择本聊天学习的题库",
        "en": "/pack [pack…|all] — show or choose the question packs this chat studies",
    },
    "help_tags": {
        "zh": "/tags [标签…|all] — 查看或选择标签（题目有任一标签即可）",
        "en": "/tags [tag…|all] — show or choose tags (a question needs any one of them)",
    },
    "help_help": {"zh": "/help — 显示本帮助", "en": "/help — this help"},
    "help_admin_note": {
        "zh": "群里只有管理员可以订阅、退订和修改时间、语言、题库和标签。",
        "en": "In groups only admins can subscribe, unsubscribe, or change the time, language, "
              "packs or tags.",
    },
    "unknown_command": {
        "zh": "不认识的命令 /{name}。发送 /help 查看可用命令。",
        "en": "Unknown command /{name}. Send /help for the list.",
    },
    "not_a_command": {
        "zh": "命令以 / 开头，例如 /today。发送 /help 查看全部。",
        "en": "Commands start with /, for example /today. Send /help for all of them.",
    },
    "admins_only": {
        "zh": "抱歉，只有群管理员可以修改本群的设置。",
        "en": "Sorry, only this chat's admins can change its settings.",
    },
    "bad_time": {
        "zh": "时间“{value}”不对。请用 24 小时制 HH:MM，"
              "例如 /subscribe 09:00 Asia/Shanghai",
        "en": "“{value}” is not a valid time. Use 24-hour HH:MM, "
              "for example /subscribe 09:00 Europe/Berlin",
    },
    "bad_zone": {
        "zh": "不认识时区“{value}”。请用 IANA 时区名，例如 Asia/Shanghai、Europe/London、UTC。",
        "en": "Unknown time zone “{value}”. Use an IANA name such as Asia/Shanghai, "
              "Europe/London or UTC.",
    },
    "subscribe_usage": {
        "zh": "用法：/subscribe [HH:MM] [地区/城市]，例如 /subscribe 21:30 Asia/Shanghai",
        "en": "Usage: /subscribe [HH:MM] [Area/City], "
              "for example /subscribe 21:30 America/New_York",
    },
    "subscribed": {
        "zh": "已订阅：每天 {time}（{zone}）推送一题。下一题：{when}。",
        "en": "Subscribed: a question every day at {time} ({zone}). Next one: {when}.",
    },
    "unsubscribed": {
        "zh": "已退订，不再每日推送。", "en": "Unsubscribed: no more daily questions."},
    "not_subscribed": {
        "zh": "本聊天还没有订阅。发送 /subscribe 开始。",
        "en": "This chat is not subscribed. Send /subscribe to start.",
    },
    "daily_title": {"zh": "📘 每日一题 · {date}", "en": "📘 Question of the day · {date}"},
    "meta": {"zh": "标签：{tags} · 难度：{stars}", "en": "Tags: {tags} · Difficulty: {stars}"},
    "btn_reveal": {"zh": "👀 查看答案", "en": "👀 Show answer"},
    "btn_knew": {"zh": "✅ 会了", "en": "✅ Knew it"},
    "btn_partly": {"zh": "🟡 部分会", "en": "🟡 Partly"},
    "btn_not_yet": {"zh": "❌ 还不会", "en": "❌ Not yet"},
    "answer_title": {"zh": "答案：{title}", "en": "Answer: {title}"},
    "key_points": {"zh": "要点", "en": "Key points"},
    "grade_prompt": {"zh": "你答得怎么样？打个分：", "en": "How did you do? Grade yourself:"},
    "revealed_toast": {"zh": "答案只发给你一个人。", "en": "The answer is shown to you only."},
    "graded": {
        "zh": "已记录：{grade}。今天完成 ✔ 连续 {n} 天。",
        "en": {"one": "Recorded: {grade}. Done for today ✔ Streak: {n} day.",
               "other": "Recorded: {grade}. Done for today ✔ Streak: {n} days."},
    },
    "regraded": {
        "zh": "已记录：{grade}。今天已经打过卡了，连续 {n} 天。",
        "en": {"one": "Recorded: {grade}. Today was already counted; streak {n} day.",
               "other": "Recorded: {grade}. Today was already counted; streak {n} days."},
    },
    "graded_outside": {
        "zh": "你不在那个群里，这次打卡记在你和机器人的私聊里，不上群排行榜。",
        "en": "You are not in that group, so this counts in your private chat with the bot, "
              "not on the group's board.",
    },
    "grade_changed": {
        "zh": "评分已改为：{grade}。这道题之前评过分，不再计入打卡；连续 {n} 天。",
        "en": {"one": "Grade changed to {grade}. This question was graded before, so no day "
                      "is counted again; streak {n} day.",
               "other": "Grade changed to {grade}. This question was graded before, so no day "
                        "is counted again; streak {n} days."},
    },
    "grade_knew": {"zh": "会了", "en": "knew it"},
    "grade_partly": {"zh": "部分会", "en": "partly"},
    "grade_not_yet": {"zh": "还不会", "en": "not yet"},
    "stale_button": {
        "zh": "这道题已经不可用了。发送 /today 查看今天的题目。",
        "en": "This question is no longer available. Send /today for today's question.",
    },
    "no_questions": {
        "zh": "题库是空的：请检查内容目录。",
        "en": "The question bank is empty: check the content folder.",
    },
    "streak_title": {"zh": "🔥 {name} 的连续打卡", "en": "🔥 {name}'s streak"},
    "streak_current": {"zh": "当前连续：{n} 天", "en": {"one": "Current streak: {n} day",
                                                      "other": "Current streak: {n} days"}},
    "streak_longest": {"zh": "最长连续：{n} 天", "en": {"one": "Longest streak: {n} day",
                                                      "other": "Longest streak: {n} days"}},
    "streak_total": {"zh": "累计打卡：{n} 天", "en": {"one": "{n} day done in total",
                                                        "other": "{n} days done in total"}},
    "streak_done": {"zh": "今天：已完成 ✔", "en": "Today: done ✔"},
    "streak_todo": {
        "zh": "今天：还没完成，还剩 {left}（给今天的题打分即可）",
        "en": "Today: not done yet, {left} left (grade today's question)",
    },
    "streak_freezes": {
        "zh": "补签卡：{n} / 2（每连续 7 天得 1 张，漏一天自动使用）",
        "en": "Freezes: {n} / 2 (earn one per 7-day run; a missed day uses one)",
    },
    "streak_frozen": {
        "zh": "本次连续中用掉补签卡 {n} 张。",
        "en": {"one": "{n} missed day in this streak was covered by a freeze.",
               "other": "{n} missed days in this streak were covered by freezes."},
    },
    "top_title": {"zh": "🏆 排行榜", "en": "🏆 Leaderboard"},
    "top_row": {
        "zh": "{rank}. {name} — 连续 {current} · 本周 {week} · 累计 {total}",
        "en": "{rank}. {name} — streak {current} · this week {week} · all time {total}",
    },
    "top_empty": {
        "zh": "还没有人打卡。给今天的题打个分，就能上榜！",
        "en": "Nobody has graded a question yet. Grade today's question to get on the board!",
    },
    # ----- files, /stats, compact /streak and /top, /top hide|show (issue 14) -----
    "console_file": {"zh": "📎 文件：{path}", "en": "📎 file: {path}"},
    "console_picture": {"zh": "🖼 图片：{path}（{alt}）", "en": "🖼 picture: {path} ({alt})"},
    "top_usage": {
        "zh": "用法：/top 查看排行榜；/top hide 不在本群排行榜上显示你；/top show 重新显示",
        "en": "Usage: /top shows the leaderboard; /top hide keeps you off this chat's board; "
              "/top show puts you back"},
    "top_hidden": {
        "zh": "好的，本群排行榜不再显示你（打卡照常记录）。用 /top show 重新显示。",
        "en": "Done: you are off this chat's leaderboard (your days still count). "
              "/top show puts you back."},
    "top_hidden_already": {
        "zh": "你已经不在本群排行榜上了。用 /top show 重新显示。",
        "en": "You are already off this chat's leaderboard. /top show puts you back."},
    "top_shown": {"zh": "好的，你重新出现在本群排行榜上。",
                  "en": "Done: you are back on this chat's leaderboard."},
    "top_shown_already": {"zh": "你本来就在本群排行榜上。",
                          "en": "You are already on this chat's leaderboard."},
    "help_stats": {
        "zh": "/stats [year|group] — 你的学习日历和各标签得分（year：一年；group：本群本周）",
        "en": "/stats [year|group] — your study calendar and grades by tag "
              "(year: a whole year; group: this chat's week)",
    },
    "discord_opt_board": {"zh": "显示", "en": "me"},
    "discord_desc_board": {"zh": "不在排行榜上显示你，或重新显示",
                           "en": "Keep yourself off the leaderboard, or come back"},
    "discord_choice_hide": {"zh": "隐藏我", "en": "hide me"},
    "discord_choice_show": {"zh": "显示我", "en": "show me"},
    "discord_cmd_stats": {"zh": "统计", "en": "stats"},
    "discord_desc_stats": {
        "zh": "你的学习日历和各标签得分", "en": "Your study calendar and grades by tag"},
    "discord_opt_view": {"zh": "范围", "en": "view"},
    "discord_desc_view": {
        "zh": "默认最近 26 周；一年：52 周；本频道：本周大家的情况",
        "en": "Default: the last 26 weeks; year: 52 weeks; channel: everyone's week here"},
    "discord_choice_year": {"zh": "一年", "en": "year"},
    "discord_choice_group": {"zh": "本频道", "en": "this channel"},
    "stats_usage": {
        "zh": "用法：/stats（最近 26 周）、/stats year（最近 52 周）、/stats group（本群本周）",
        "en": "Usage: /stats (last 26 weeks), /stats year (last 52 weeks), "
              "/stats group (this chat's week)",
    },
    "stats_title": {"zh": "📊 {name} 的学习统计", "en": "📊 {name}'s progress"},
    "stats_title_everywhere": {
        "zh": "📊 {name} 的学习统计（所有聊天）", "en": "📊 {name}'s progress in every chat"},
    "stats_days": {"zh": "{n} 天", "en": {"one": "{n} day", "other": "{n} days"}},
    "stats_grades": {"zh": "{n} 次打分", "en": {"one": "{n} grade", "other": "{n} grades"}},
    "stats_streaks": {
        "zh": "当前连续 {current} · 最长 {longest}",
        "en": "Current streak {current} · longest {longest}"},
    "stats_month": {"zh": "本月 {month} · 累计 {total}",
                    "en": "This month {month} · in all {total}"},
    "stats_shares": {
        "zh": "会了 {knew}% · 部分会 {partly}% · 还不会 {not_yet}%",
        "en": "knew {knew}% · partly {partly}% · not yet {not_yet}%"},
    "stats_tags_head": {"zh": "各标签得分（最弱的在前）：", "en": "Grades by tag, weakest first:"},
    "stats_tag_row": {"zh": "{tag}：{shares}（{grades}）", "en": "{tag}: {shares} ({grades})"},
    "stats_more_tags": {
        "zh": "……还有 {n} 个标签",
        "en": {"one": "… and {n} more tag", "other": "… and {n} more tags"}},
    "stats_no_grades": {
        "zh": "还没有打过分：给每日一题打分后，这里会显示各标签的得分。",
        "en": "No grades yet: grade the daily question to see how you do per tag."},
    "stats_picture_title": {"zh": "学习日历 · 最近 {weeks} 周",
                            "en": "Study days · last {weeks} weeks"},
    "stats_legend_studied": {"zh": "学习了", "en": "studied"},
    "stats_legend_idle": {"zh": "没学", "en": "no study"},
    "stats_alt": {
        "zh": "学习日历：最近 {weeks} 周，每格一天，绿色是学习过的日子。共学习 {days}，"
              "当前连续 {current}，最长 {longest}。",
        "en": "Study calendar of the last {weeks} weeks, one square a day, green where you "
              "studied: {days} in all, current streak {current}, longest {longest}."},
    "stats_group_private": {
        "zh": "/stats group 在群里使用，显示本群本周的情况。",
        "en": "/stats group works in a group chat and shows that chat's week."},
    "stats_group_title": {"zh": "📈 本群本周", "en": "📈 This chat this week"},
    "stats_group_days": {
        "zh": "有人打卡的日子：最近 30 天里 {days}",
        "en": "Days with activity: {days} of the last 30"},
    "stats_group_members": {
        "zh": "本周打卡成员：{n} 人",
        "en": {"one": "Members active this week: {n}", "other": "Members active this week: {n}"}},
    "stats_group_questions": {"zh": "本周题目：", "en": "This week's questions:"},
    "stats_group_row": {"zh": "{date} {title}：{shares}（{grades}）",
                        "en": "{date} {title}: {shares} ({grades})"},
    "stats_group_row_ungraded": {"zh": "{date} {title}：还没有人打分",
                                 "en": "{date} {title}: no grades yet"},
    "stats_group_none": {"zh": "本周还没有题目。", "en": "No questions this week yet."},
    "stats_group_chart_title": {"zh": "本周题目得分", "en": "This week's questions, as graded"},
    "stats_group_alt": {
        "zh": "本周每道题的得分条：每行一天，绿色是会了、黄色是部分会、红色是还不会；"
              "加框的是最难的一题。",
        "en": "A bar for each of this week's questions, one row a day: green knew it, yellow "
              "partly, red not yet; the hardest one is outlined."},
    "stats_group_hardest": {
        "zh": "本周最难：{title}（{shares}）", "en": "Hardest this week: {title} ({shares})"},
    "lang_set": {"zh": "语言已切换为中文。", "en": "Language set to English."},
    "lang_usage": {
        "zh": "当前语言：中文。用法：/lang zh 或 /lang en",
        "en": "Current language: English. Usage: /lang zh or /lang en",
    },
    "pack_title": {"zh": "📚 题库", "en": "📚 Question packs"},
    "pack_row": {
        "zh": "{mark} {id} — {title}（{n} 题）",
        "en": {"one": "{mark} {id} — {title} ({n} question)",
               "other": "{mark} {id} — {title} ({n} questions)"},
    },
    "pack_studies_all": {
        "zh": "本聊天学习：全部题库。", "en": "This chat studies: all packs."},
    "pack_studies": {"zh": "本聊天学习：{packs}。", "en": "This chat studies: {packs}."},
    "pack_hint": {
        "zh": "管理员可以用 /pack 题库… 选择题库，/pack all 恢复全部。",
        "en": "Admins choose with /pack <pack> [<pack>…]; /pack all for every pack.",
    },
    "pack_usage": {
        "zh": "用法：/pack 题库 [题库…]，或 /pack all 学习全部题库。",
        "en": "Usage: /pack <pack> [<pack>…], or /pack all for every pack.",
    },
    "pack_unknown": {
        "zh": "没有这个题库：{value}。可选题库：{valid}",
        "en": "Unknown pack: {value}. Packs: {valid}",
    },
    "pack_set": {
        "zh": "好的，本聊天现在学习：{packs}（符合条件的题目 {n} 道）。",
        "en": {"one": "Done: this chat now studies {packs} ({n} matching question).",
               "other": "Done: this chat now studies {packs} ({n} matching questions)."},
    },
    "pack_reset": {
        "zh": "好的，本聊天现在学习全部题库（符合条件的题目 {n} 道）。",
        "en": {"one": "Done: this chat now studies every pack ({n} matching question).",
               "other": "Done: this chat now studies every pack ({n} matching questions)."},
    },
    "tags_title": {"zh": "🏷 标签", "en": "🏷 Tags"},
    "tags_row": {"zh": "{mark} {tag}（{n} 题）", "en": {
        "one": "{mark} {tag} ({n} question)", "other": "{mark} {tag} ({n} questions)"}},
    "tags_in_packs_all": {
        "zh": "题数按本聊天的题库统计：全部题库。",
        "en": "Counts are within this chat's packs: all packs.",
    },
    "tags_in_packs": {
        "zh": "题数按本聊天的题库统计：{packs}。",
        "en": "Counts are within this chat's packs: {packs}.",
    },
    "tags_filter_none": {
        "zh": "当前筛选：不限标签。", "en": "Current filter: none (every tag)."},
    "tags_filter": {
        "zh": "当前筛选：带有 {tags} 中任一标签的题目。",
        "en": "Current filter: questions with any of the tags {tags}.",
    },
    "tags_hint": {
        "zh": "管理员可以用 /tags 标签… 筛选，/tags all 取消筛选。",
        "en": "Admins filter with /tags <tag> [<tag>…]; /tags all removes the filter.",
    },
    "tags_usage": {
        "zh": "用法：/tags 标签 [标签…]，或 /tags all 取消筛选。",
        "en": "Usage: /tags <tag> [<tag>…], or /tags all to remove the filter.",
    },
    "tags_unknown": {
        "zh": "本聊天的题库里没有这个标签：{value}。可选标签：{valid}",
        "en": "No question in this chat's packs has the tag {value}. Tags: {valid}",
    },
    "tags_set": {
        "zh": "好的，现在只学习带有 {tags} 中任一标签的题目（{n} 道）。",
        "en": {"one": "Done: this chat now studies questions with any of the tags {tags} "
                      "({n} question).",
               "other": "Done: this chat now studies questions with any of the tags {tags} "
                        "({n} questions)."},
    },
    "tags_reset": {
        "zh": "好的，已取消标签筛选（符合条件的题目 {n} 道）。",
        "en": {"one": "Done: no tag filter any more ({n} matching question).",
               "other": "Done: no tag filter any more ({n} matching questions)."},
    },
    "selection_empty": {
        "zh": "没有题目符合这个组合（题库：{packs}；标签：{tags}），设置未改变。"
              "可以先用 /tags all 或 /pack all 放宽条件。",
        "en": "No question matches that combination (packs: {packs}; tags: {tags}), so nothing "
              "was changed. Widen the choice first with /tags all or /pack all.",
    },
    "selection_gone": {
        "zh": "题库里已经没有：{ids}（已忽略）。",
        "en": "No longer in the question bank: {ids} (ignored).",
    },
    "selection_all_packs": {"zh": "全部题库", "en": "all packs"},
    "selection_all_tags": {"zh": "任意标签", "en": "any tag"},
    "only_first": {
        "zh": "（只看了前 {n} 个参数。）", "en": {
            "one": "(Only the first argument was considered.)",
            "other": "(Only the first {n} arguments were considered.)"}},
    "duration_hm": {"zh": "{h} 小时 {m} 分钟", "en": "{h} h {m} min"},
    "when_in": {"zh": "{local}（{delta}后）", "en": "{local} (in {delta})"},
    "input_too_long": {
        "zh": "消息太长了（最多 {limit} 个字符）。",
        "en": "That message is too long (at most {limit} characters).",
    },
    # ----- the review loop, your own day, reminders (bot.core.review, bot.core.reminders) -----
    "n_days": {"zh": "{n} 天", "en": {"one": "{n} day", "other": "{n} days"}},
    "n_hours": {"zh": "{n} 小时", "en": "{n} h"},
    "n_minutes": {"zh": "{n} 分钟", "en": "{n} min"},
    "help_review": {"zh": "/review — 复习到期的卡片（私聊）",
                    "en": "/review — review the cards that are due (private chat)"},
    "help_tz": {"zh": "/tz [地区/城市] — 查看或设置你自己的时区",
                "en": "/tz [Area/City] — show or set your own time zone"},
    "help_remind": {"zh": "/remind HH:MM|off — 有待办时每天私聊提醒你",
                    "en": "/remind HH:MM|off — a daily private reminder when something waits"},
    "review_title": {"zh": "🔁 复习", "en": "🔁 Review"},
    "review_due": {"zh": "{n} 张卡片到期",
                   "en": {"one": "{n} card due", "other": "{n} cards due"}},
    "review_left": {"zh": "今天还能复习 {n} 张",
                    "en": "{n} more today"},
    "review_all_done": {"zh": "全部完成！下一张卡片 {when}后到期。",
                        "en": "All done; next card due in {when}."},
    "review_no_cards": {
        "zh": "还没有复习卡片。给每日一题打分，答错或部分会的题会在这里按计划回来。",
        "en": "No review cards yet. Grade questions of the day: each comes back here on its "
              "schedule.",
    },
    "review_limit": {
        "zh": "今天已经复习了 {n} 张（每日上限）。{due}，明天继续。",
        "en": {"one": "You reviewed {n} card today, the daily limit. {due}; more tomorrow.",
               "other": "You reviewed {n} cards today, the daily limit. {due}; more "
                        "tomorrow."},
    },
    "review_in_private": {
        "zh": "复习在你和机器人的私聊里进行：请在私聊中发送 /review。",
        "en": "Reviews happen in your private chat with me: send /review there.",
    },
    "review_stale": {"zh": "这张卡片已经不可用了。发送 /review 继续。",
                     "en": "This card is no longer available. Send /review to go on."},
    "review_not_due": {"zh": "这张卡片还没到期。发送 /review 查看到期的卡片。",
                       "en": "This card is not due yet. Send /review for the cards that are."},
    "review_graded": {
        "zh": "已记录：{grade}。私聊连续 {n} 天。",
        "en": {"one": "Recorded: {grade}. Private streak: {n} day.",
               "other": "Recorded: {grade}. Private streak: {n} days."},
    },
    "tz_set": {
        "zh": "你的时区已设为 {zone}：复习日、提醒和私聊打卡按它计算（群的打卡仍按群的时区）。",
        "en": "Your time zone is now {zone}: your review day, reminders and private streak "
              "follow it (a group's streak keeps the group's zone).",
    },
    "tz_show": {"zh": "你的时区：{zone}。用 /tz 地区/城市 修改。",
                "en": "Your time zone: {zone}. Change it with /tz Area/City."},
    "tz_unset": {"zh": "你还没有设置时区（现在按 {zone} 计算）。用 /tz 地区/城市 设置。",
                 "en": "You have not set a time zone (using {zone}). Set one with /tz "
                       "Area/City."},
    "remind_in_private": {
        "zh": "提醒在你和机器人的私聊里设置：请在私聊中发送 /remind HH:MM。",
        "en": "Reminders are set in your private chat with me: send /remind HH:MM there.",
    },
    "remind_usage": {"zh": "用法：/remind HH:MM（24 小时制），或 /remind off 关闭提醒。",
                     "en": "Usage: /remind HH:MM (24-hour), or /remind off."},
    "remind_set": {
        "zh": "好的：每天 {time}（{zone}）如果有待办，我会私聊提醒你。下一次：{when}。",
        "en": "Done: at {time} ({zone}) every day I'll remind you here if something waits. "
              "Next: {when}.",
    },
    "remind_off": {"zh": "已关闭提醒。", "en": "Reminders are off."},
    "remind_none": {"zh": "你还没有设置提醒。用 /remind HH:MM 设置。",
                    "en": "No reminder set. Set one with /remind HH:MM."},
    "remind_show": {"zh": "每天 {time}（{zone}）提醒你。/remind off 关闭。",
                    "en": "You are reminded at {time} ({zone}). /remind off turns it off."},
    "remind_title": {"zh": "⏰ 提醒", "en": "⏰ Reminder"},
    "remind_streak": {
        "zh": "你在{group}的连续打卡（{n} 天）将在 {left}后中断",
        "en": {"one": "your streak of {n} day in {group} ends in {left}",
               "other": "your streak of {n} days in {group} ends in {left}"},
    },
    "remind_question": {"zh": "{group}今天的题还没打分（还剩 {left}）",
                        "en": "today's question in {group} is not graded yet ({left} left)"},
    "remind_a_group": {"zh": "群里", "en": "your group"},
    "remind_hint": {"zh": "发送 /review 开始复习，或在群里给今天的题打分。",
                    "en": "Send /review to start, or grade today's question in the group."},
    "telegram_open_private": {"zh": "先打开和我的私聊：{link}",
                              "en": "Open your private chat with me first: {link}"},
    "discord_cmd_review": {"zh": "复习", "en": "review"},
    "discord_desc_review": {"zh": "在私聊中复习到期的卡片", "en": "Review the cards that are due "
                            "(in your DM with the bot)"},
    "discord_cmd_tz": {"zh": "时区", "en": "tz"},
    "discord_desc_tz": {"zh": "查看或设置你自己的时区", "en": "Show or set your own time zone"},
    "discord_cmd_remind": {"zh": "提醒", "en": "remind"},
    "discord_desc_remind": {"zh": "每天私聊提醒（HH:MM 或 off）",
                            "en": "A daily DM reminder (HH:MM or off)"},
    "discord_desc_remind_time": {"zh": "本地时间 HH:MM，或 off 关闭",
                                 "en": "Local time HH:MM, or off"},
    # ----- studying together: /answer, /digest, the live board (bot.core.together) ---------------
    "help_answer": {
        "zh": "/answer HH:MM|off — 每天在这个时间把当天答案发到群里讨论（管理员）",
        "en": "/answer HH:MM|off — post the day's answer here at that time, to discuss (admins)",
    },
    "help_digest": {
        "zh": "/digest on|off — 每周一发一份上周回顾（管理员）",
        "en": "/digest on|off — a weekly digest of last week, every Monday (admins)",
    },
    "bad_time_usage": {
        "zh": "时间“{value}”不对。{usage}", "en": "“{value}” is not a valid time. {usage}"},
    "answer_usage": {
        "zh": "用法：/answer HH:MM（24 小时制，本群时区），或 /answer off 关闭。",
        "en": "Usage: /answer HH:MM (24-hour, this chat's zone), or /answer off.",
    },
    "answer_set": {
        "zh": "好的：每天 {time}（{zone}）把当天的答案作为回复发在题目下面，大家一起讨论。"
              "下一次：{when}。",
        "en": "Done: every day at {time} ({zone}) the day's answer is posted as a reply to the "
              "question, for everyone to discuss. Next: {when}.",
    },
    "answer_needs_subscription": {
        "zh": "注意：本聊天还没有订阅每日一题，没有题目就不会发答案。发送 /subscribe 开始。",
        "en": "Note: this chat has no daily question yet, and no question means no answer. "
              "Send /subscribe to start.",
    },
    "answer_off": {
        "zh": "已关闭：不再在群里公布答案。", "en": "Done: answers are no longer posted here."},
    "answer_none": {
        "zh": "本聊天不公布答案。管理员可以用 /answer HH:MM 设置时间。",
        "en": "Answers are not posted here. Admins can set a time with /answer HH:MM.",
    },
    "answer_show": {
        "zh": "每天 {time}（{zone}）公布当天答案。/answer off 关闭。",
        "en": "The day's answer is posted at {time} ({zone}). /answer off turns it off.",
    },
    "answer_post_title": {"zh": "💡 今日答案：{title}", "en": "💡 Today's answer: {title}"},
    "answer_talk": {
        "zh": "有不同看法？在这里回复讨论吧。", "en": "Another take? Reply here and discuss."},
    "digest_usage": {
        "zh": "用法：/digest on 或 /digest off。", "en": "Usage: /digest on or /digest off."},
    "digest_on": {
        "zh": "好的：每周一发一份上周回顾。第一份：{when}。",
        "en": "Done: a digest of the past week every Monday. The first: {when}.",
    },
    "digest_off": {"zh": "已关闭每周回顾。", "en": "Done: no more weekly digests."},
    "digest_is_on": {
        "zh": "每周回顾：开启（每周一）。/digest off 关闭。",
        "en": "Weekly digest: on (Mondays). /digest off turns it off.",
    },
    "digest_is_off": {
        "zh": "每周回顾：关闭。管理员可以用 /digest on 开启。",
        "en": "Weekly digest: off. Admins turn it on with /digest on.",
    },
    "digest_title": {"zh": "🗓 上周回顾 · {start} – {end}", "en": "🗓 Last week · {start} – {end}"},
    "digest_row": {
        "zh": "{i}. {title} — ✅ {knew}% · 🟡 {partly}% · ❌ {not_yet}%（{n} 人评分）",
        "en": {"one": "{i}. {title} — ✅ {knew}% · 🟡 {partly}% · ❌ {not_yet}% ({n} grade)",
               "other": "{i}. {title} — ✅ {knew}% · 🟡 {partly}% · ❌ {not_yet}% ({n} grades)"},
    },
    "digest_row_ungraded": {
        "zh": "{i}. {title} — 还没有人评分", "en": "{i}. {title} — nobody graded it yet"},
    "digest_hardest": {
        "zh": "最难的一题：{title}（❌ {pct}%）", "en": "Hardest: {title} (❌ {pct}%)"},
    "digest_streak": {"zh": "{name} {n} 天", "en": {"one": "{name} {n} day",
                                                     "other": "{name} {n} days"}},
    "digest_streaks": {"zh": "🔥 连续打卡：{names}", "en": "🔥 Streaks: {names}"},
    "digest_reveal_hint": {
        "zh": "点下面的编号按钮，私下查看那道题的答案。",
        "en": "Tap a number below to see that question's answer privately.",
    },
    "btn_digest_reveal": {"zh": "👀 {i}", "en": "👀 {i}"},
    "discord_cmd_answer": {"zh": "公布答案", "en": "answer"},
    "discord_desc_answer": {
        "zh": "每天在这个时间把答案发到频道讨论（HH:MM 或 off，管理员）",
        "en": "Post the day's answer here at a time, to discuss (HH:MM or off; admins)"},
    "discord_cmd_digest": {"zh": "每周回顾", "en": "digest"},
    "discord_desc_digest": {
        "zh": "每周一发一份上周回顾（on 或 off，管理员）",
        "en": "A weekly digest every Monday (on or off; admins)"},
    "discord_opt_setting": {"zh": "设置", "en": "setting"},
    "discord_desc_answer_setting": {
        "zh": "本地时间 HH:MM，或 off 关闭", "en": "Local time HH:MM, or off"},
    "discord_desc_digest_setting": {"zh": "on 或 off", "en": "on or off"},
    # ----- privacy: /forgetme and /export ------------------------------------------------------
    "help_forgetme": {
        "zh": "/forgetme — 删除机器人保存的关于你的全部数据（私聊）",
        "en": "/forgetme — delete everything the bot stores about you (private chat)",
    },
    "help_export": {
        "zh": "/export — 下载机器人保存的关于你的全部数据（JSON，私聊）",
        "en": "/export — a copy of everything the bot stores about you (JSON, private chat)",
    },
    "privacy_private_only": {
        "zh": "/{name} 只能在和机器人的私聊里使用，这样别人看不到。",
        "en": "/{name} works only in your private chat with the bot, so nobody else sees it.",
    },
    "privacy_nothing": {
        "zh": "机器人没有保存关于你的任何数据。",
        "en": "The bot stores nothing about you.",
    },
    "privacy_grades": {"zh": "{n} 条评分", "en": {"one": "{n} grade", "other": "{n} grades"}},
    "privacy_reveals": {
        "zh": "{n} 条查看答案记录",
        "en": {"one": "{n} answer you viewed", "other": "{n} answers you viewed"},
    },
    "privacy_study_days": {
        "zh": "{n} 个打卡日（所有群和私聊的连续打卡）",
        "en": {"one": "{n} study day (streaks in every group and here)",
               "other": "{n} study days (streaks in every group and here)"},
    },
    "privacy_cards": {
        "zh": "{n} 张复习卡片", "en": {"one": "{n} review card", "other": "{n} review cards"}},
    "privacy_reminder": {"zh": "你的每日提醒", "en": "your daily reminder"},
    "privacy_other": {
        "zh": "其他 {n} 条记录", "en": {"one": "{n} other record", "other": "{n} other records"}},
    "privacy_private_chat": {
        "zh": "这个私聊的设置、订阅和题目记录",
        "en": "this private chat's settings, schedule and questions",
    },
    "privacy_name": {"zh": "你的名字和账号 id", "en": "your name and account id"},
    "forget_title": {"zh": "🗑 删除你的数据？", "en": "🗑 Delete your data?"},
    "forget_ask": {
        "zh": "这会删除机器人在 {platform} 上保存的关于你的全部数据：",
        "en": "This deletes everything the bot stores about you on {platform}:",
    },
    "forget_keeps": {
        "zh": "各个群自己的设置不变；你会从所有排行榜上消失。",
        "en": "Your groups keep their own settings; you disappear from every leaderboard.",
    },
    "forget_final": {
        "zh": "删除后无法恢复。想先留一份？发送 /export。",
        "en": "This cannot be undone. Want a copy first? Send /export.",
    },
    "btn_forget": {"zh": "🗑 全部删除", "en": "🗑 Delete everything"},
    "forget_done_title": {"zh": "已删除你的数据", "en": "Your data is deleted"},
    "forget_done": {
        "zh": "各个群的设置保持不变。如果你再给机器人发消息，一切从头开始。",
        "en": "Groups keep their own settings. If you write to the bot again, you start afresh.",
    },
    "forget_done_toast": {"zh": "已删除。", "en": "Deleted."},
    "export_caption": {
        "zh": "这是机器人保存的关于你的全部数据（JSON，格式见 README 的“隐私”一节）。",
        "en": "Everything the bot stores about you, as JSON (the README's privacy section "
              "describes the format).",
    },
    "export_alt": {"zh": "你的数据（JSON）", "en": "Your data (JSON)"},
    # The console adapter's own controls (the terminal stand-in for a chat app's interface).
    "console_intro": {
        "zh": "studybot 终端聊天。/help 查看机器人命令，:help 查看终端控制。",
        "en": "studybot console. Type /help for the bot's commands, :help for the console's.",
    },
    "console_help": {
        "zh": "终端控制（机器人命令以 / 开头，例如 /help）：\n"
              "  <数字>        按下对应的按钮\n"
              "  :group        在学习群里说话（alice 是群管理员，bob 不是）\n"
              "  :private      和机器人私聊\n"
              "  :user 名字    切换用户（alice 或 bob）\n"
              "  :clock +2h    把终端时钟往前拨（m、h 或 d），试试推送和连续打卡\n"
              "  :where        你是谁、在哪里，以及终端时钟\n"
              "  :quit         退出（Ctrl-D 或 Ctrl-C 也可以）",
        "en": "Console controls (bot commands start with /, e.g. /help):\n"
              "  <number>      press that button\n"
              "  :group        talk in the study group (alice is its admin, bob is not)\n"
              "  :private      talk to the bot in your private chat\n"
              "  :user NAME    act as another user (alice or bob)\n"
              "  :clock +2h    move the console's clock forward (m, h or d), to try pushes and "
              "streaks\n"
              "  :where        who and where you are, and the console clock\n"
              "  :quit         leave (Ctrl-D or Ctrl-C work too)",
    },
    "console_where": {
        "zh": "（你是 {user}，在{where}；终端时钟 {now} UTC）",
        "en": "(you are {user}, in {where}; console clock {now} UTC)",
    },
    "console_group": {"zh": "学习群", "en": "the study group"},
    "console_private": {"zh": "{user} 的私聊", "en": "the private chat of {user}"},
    "console_only_you": {"zh": "只有 {user} 能看到", "en": "only {user} sees this"},
    "console_no_button": {"zh": "（没有按钮 [{number}]）", "en": "(there is no button [{number}])"},
    "console_too_long": {
        "zh": "（这一行太长了：最多 {limit} 个字符，已忽略）",
        "en": "(that line is too long: at most {limit} characters; ignored)",
    },
    "console_quiet": {
        "zh": "（在群里，机器人只回应命令，例如 /help）",
        "en": "(in groups the bot only answers commands, like /help)",
    },
    "console_users": {"zh": "（用户：{users}）", "en": "(users: {users})"},
    "console_clock_usage": {
        "zh": "（用法：:clock +30m、:clock +2h 或 :clock +1d）",
        "en": "(usage: :clock +30m, :clock +2h or :clock +1d)",
    },
    "console_bye": {"zh": "再见", "en": "bye"},
    "console_reply": {"zh": "回复题目", "en": "in reply to the question"},
    "console_edited": {"zh": "更新了之前的消息", "en": "an earlier message, updated"},
    # ----- discord_*: the Discord adapter's slash-command names, descriptions and notices -----
    # The English text is the command's default; Chinese is sent to Discord as the zh-CN/zh-TW
    # localization (lower-case, no spaces: Discord's rule for command and option names).
    "discord_cmd_subscribe": {"zh": "订阅", "en": "subscribe"},
    "discord_desc_subscribe": {
        "zh": "每天在本地时间推送一道面试题（需要管理服务器或管理频道权限）",
        "en": "A daily interview question at a local time (needs Manage Server or Manage Channels)",
    },
    "discord_opt_channel": {"zh": "频道", "en": "channel"},
    "discord_desc_channel": {
        "zh": "推送到哪个文字频道（默认当前频道）",
        "en": "The text channel to post in (default: this one)",
    },
    "discord_opt_time": {"zh": "时间", "en": "time"},
    "discord_desc_time": {
        "zh": "本地时间，24 小时制 HH:MM，例如 09:00",
        "en": "Local time, 24-hour HH:MM, for example 09:00",
    },
    "discord_opt_timezone": {"zh": "时区", "en": "timezone"},
    "discord_desc_timezone": {
        "zh": "IANA 时区，例如 Asia/Shanghai",
        "en": "IANA time zone, for example Europe/Berlin",
    },
    "discord_cmd_unsubscribe": {"zh": "退订", "en": "unsubscribe"},
    "discord_desc_unsubscribe": {
        "zh": "停止本频道的每日推送", "en": "Stop this channel's daily question"},
    "discord_cmd_today": {"zh": "今日一题", "en": "today"},
    "discord_desc_today": {"zh": "今天的题目", "en": "Today's question"},
    "discord_cmd_streak": {"zh": "打卡", "en": "streak"},
    "discord_desc_streak": {"zh": "你的连续打卡", "en": "Your streak"},
    "discord_cmd_top": {"zh": "排行榜", "en": "top"},
    "discord_desc_top": {"zh": "本频道的排行榜", "en": "This channel's leaderboard"},
    "discord_cmd_lang": {"zh": "语言", "en": "lang"},
    "discord_desc_lang": {"zh": "切换本频道的语言", "en": "Switch this channel's language"},
    "discord_opt_language": {"zh": "语言", "en": "language"},
    "discord_desc_language": {"zh": "中文或英文", "en": "Chinese or English"},
    "discord_choice_zh": {"zh": "中文", "en": "Chinese (中文)"},
    "discord_choice_en": {"zh": "英文 (English)", "en": "English"},
    "discord_cmd_pack": {"zh": "题库", "en": "pack"},
    "discord_desc_pack": {
        "zh": "查看或选择本频道学习的题库", "en": "Show or choose the question packs"},
    "discord_cmd_tags": {"zh": "标签", "en": "tags"},
    "discord_desc_tags": {
        "zh": "查看或选择本频道学习的标签", "en": "Show or choose the topics (tags)"},
    "discord_opt_choice": {"zh": "选择", "en": "choice"},
    "discord_desc_pack_choice": {
        "zh": "题库 id，空格分隔；all 表示全部（管理员）",
        "en": "pack ids separated by spaces, or all (admins)"},
    "discord_desc_tags_choice": {
        "zh": "标签，空格分隔；all 表示全部（管理员）",
        "en": "tags separated by spaces, or all (admins)"},
    "discord_cmd_export": {"zh": "导出我的数据", "en": "export"},
    "discord_desc_export": {
        "zh": "下载机器人保存的关于你的全部数据（在私信里发送）",
        "en": "A copy of everything the bot stores about you (sent in your DMs with the bot)"},
    "discord_cmd_forgetme": {"zh": "删除我的数据", "en": "forgetme"},
    "discord_desc_forgetme": {
        "zh": "删除机器人保存的关于你的全部数据（在私信里使用）",
        "en": "Delete everything the bot stores about you (use it in your DMs with the bot)"},
    "discord_cmd_help": {"zh": "帮助", "en": "help"},
    "discord_desc_help": {"zh": "可用命令", "en": "The command list"},
    "discord_failed": {
        "zh": "出了点问题，没能完成。请稍后再试。",
        "en": "Something went wrong and that did not work. Please try again later.",
    },
    "discord_text_channels_only": {
        "zh": "只能推送到文字频道，请选择一个文字频道。",
        "en": "Questions can only be posted in a text channel; please pick one.",
    },
}


def t(language: str, key: str, /, **values: object) -> str:
    """The sentence `key` in `language` (falling back to Chinese), with `values` filled in.

    A sentence with plural forms picks the one for `values["n"]`.
    """
    entry = _CATALOG[key]
    lang = language if language in entry else "zh"
    text = entry[lang]
    if isinstance(text, dict):
        count = values.get("n")
        if not isinstance(count, int | float):
            raise TypeError(f"catalog entry {key!r} has plural forms and needs a number n")
        form = plural_category(lang, count)
        text = text.get(form) or text["other"]
    return text.format(**values) if values else text


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def plural_category(language: str, count: float) -> str:
    """The CLDR plural category of `count` in `language`: "one", "other", ..."""
    return _locale(language).plural_form(abs(count))


def normalize_language(value: str) -> str | None:
    v = value.strip().lower().replace("_", "-")
    if v in ("zh", "zh-cn", "cn", "中文", "chinese"):
        return "zh"
    if v in ("en", "en-us", "en-gb", "english", "英文"):
        return "en"
    return None


def catalog_keys() -> frozenset[str]:
    return frozenset(_CATALOG)


def catalog_forms(key: str, language: str) -> tuple[str, ...]:
    """Every text `key` has in `language`: one, or one per plural category."""
    text = _CATALOG[key][language]
    return tuple(text.values()) if isinstance(text, dict) else (text,)


def catalog_languages(key: str) -> frozenset[str]:
    return frozenset(_CATALOG[key])


