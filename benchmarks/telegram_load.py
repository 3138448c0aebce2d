"""Load test: 50 simulated users each send 5 questions at once to the real bot through FakeBotAPI.

Checks that every question is answered exactly once and reports reply latency (question queued → first
reply received by the server). Uses the real model and a fresh index of the seed corpus in a temp folder.

    .venv/bin/python benchmarks/telegram_load.py [--users 50] [--questions 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_bot_api import FakeBotAPI, wait_until  # noqa: E402

from bot.config import load_config  # noqa: E402
from bot.render_telegram import REPLIES  # noqa: E402
from bot.service import QAService, rebuild  # noqa: E402
from bot.telegram_bot import ALLOWED_UPDATES, build_application  # noqa: E402

TOKEN = "100:LOAD-test"
QUESTIONS = [
    "江苏通过师徒结对培养了多少科室接班人？",
    "青海的国家区域医疗中心平移了多少项新技术？",
    "玉溪下沉了多少医务人员？",
    "渭南如何做到小病不出乡？",
    "红烧肉怎么做",
]


def make_project(folder: Path, base_url: str) -> Path:
    """A project folder with the seed corpus and a config pointing at the fake server."""
    shutil.copytree(ROOT / "corpus", folder / "corpus")
    path = folder / "config.yaml"
    path.write_text(
        f"corpus: {{dir: corpus}}\nindex: {{dir: index}}\n"
        f"telegram: {{api_base_url: '{base_url}', data_dir: data, index_check_seconds: 0}}\n",
        encoding="utf-8",
    )
    return path


async def run(users: int, per_user: int, api: FakeBotAPI, service: QAService, config) -> dict:
    """Send every question at once and wait until each has a reply."""
    account = api.add_bot(TOKEN)
    application = build_application(config, service, TOKEN)
    await application.initialize()
    await application.post_init(application)
    await application.updater.start_polling(poll_interval=0, timeout=5, allowed_updates=ALLOWED_UPDATES)
    await application.start()
    try:
        asked = {}
        for user in range(users):
            for i in range(per_user):
                message = account.push_message(10_000 + user, QUESTIONS[i % len(QUESTIONS)])
                asked[(10_000 + user, message["message_id"])] = account.last_update_id
        await wait_until(lambda: len(replies(account)) >= len(asked), timeout=600)
        await asyncio.sleep(1.0)  # a duplicate would arrive now
        return measure(account, asked)
    finally:
        await application.updater.stop()
        await application.stop()
        await application.post_stop(application)
        await application.shutdown()


def replies(account) -> list:
    """First messages of answers: the ones that reply to a question."""
    return [c for c in account.calls_of("sendMessage") if c.params.get("reply_parameters")]


def measure(account, asked: dict) -> dict:
    """Answered-once check and latency percentiles."""
    seen: dict[tuple[int, int], list] = {}
    for call in replies(account):
        seen.setdefault((call.params["chat_id"], call.params["reply_parameters"]["message_id"]), []).append(
            call
        )
    latencies = sorted(calls[0].time - account.pushed_at[asked[key]] for key, calls in seen.items())
    apologies = [c for c in account.calls_of("sendMessage") if c.params["text"] == REPLIES["error"]]
    return {
        "questions": len(asked),
        "answered": sum(1 for key in asked if key in seen),
        "answered_twice": sum(1 for calls in seen.values() if len(calls) > 1),
        "apologies": len(apologies),
        "failed_calls": len([c for c in account.calls if c.error]),
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, int(round(0.95 * len(latencies))) - 1)],
        "max": latencies[-1],
    }


def main() -> int:
    """Build the seed index, run the load, print the figures; exit 1 if any question was lost or doubled."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder, FakeBotAPI() as api:
        config = load_config(make_project(Path(folder), api.base_url))
        rebuild(config, progress=False)
        service = QAService.open(config, auto_build=False, progress=False)
        service.answer(QUESTIONS[0])  # warm-up, as a running bot is
        started = time.perf_counter()
        result = asyncio.run(run(args.users, args.questions, api, service, config))
        wall = time.perf_counter() - started
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, python {platform.python_version()}")
    print(f"{args.users} users x {args.questions} questions = {result['questions']} questions, sent at once")
    print(
        f"answered {result['answered']}, answered twice {result['answered_twice']}, "
        f"apologies {result['apologies']}, failed Bot API calls {result['failed_calls']}"
    )
    print(
        f"reply latency p50 {result['p50']:.2f} s, p95 {result['p95']:.2f} s, max {result['max']:.2f} s; "
        f"wall {wall:.1f} s"
    )
    ok = (
        result["answered"] == result["questions"]
        and result["answered_twice"] == 0
        and not result["apologies"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
