"""Command-line interface: thin subcommands over the library; user errors exit 2 with one line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from bot.config import Config, load_config
from bot.errors import BotError, QuestionError

logger = logging.getLogger("bot")

EXAMPLE = "青海的国家区域医疗中心平移了多少项新技术？"


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line and exits with 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bot` and the `newsqa-bot` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # --config and -v may come before or after the subcommand; the later one wins.
    args.config = getattr(args, "config", None) or args.global_config
    args.verbose = getattr(args, "verbose", False) or args.global_verbose
    _configure_logging(args.verbose)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        config = load_config(args.config)
        return args.handler(args, config) or 0
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the user gets one line, the log gets the traceback
        logger.debug("unexpected error", exc_info=True)
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --verbose for details)", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """All subcommands; each help text is the docstring of its handler."""
    common = OneLineParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="config file (default: ./config.yaml)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log details")
    parser = OneLineParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", dest="global_config", type=Path, help="config file (default: ./config.yaml)")
    parser.add_argument("-v", "--verbose", dest="global_verbose", action="store_true", help="log details")
    sub = parser.add_subparsers(title="commands", parser_class=OneLineParser)

    def command(group, name: str, handler: Callable) -> argparse.ArgumentParser:
        doc = (handler.__doc__ or "").strip()
        p = group.add_parser(name, help=doc, description=doc, parents=[common])
        p.set_defaults(handler=handler)
        return p

    ask = command(sub, "ask", cmd_ask)
    ask.add_argument("question", nargs="?", help="the question (or use --file)")
    ask.add_argument("--file", help="answer one question per line of FILE ('-' = stdin)")
    ask.add_argument("--json", action="store_true", help="print JSON (one object per question)")
    _add_retrieval_flags(ask)
    _add_retrieval_flags(command(sub, "chat", cmd_chat))
    command(sub, "serve", cmd_serve)
    ev = command(sub, "eval", cmd_eval)
    ev.add_argument("dataset", type=Path, help="SQuAD-format JSON (CMRC 2018, DRCD)")
    ev.add_argument("--mode", choices=("bm25", "dense", "hybrid", "all"), default="hybrid")
    ev.add_argument("--limit", type=int, help="use only the first N paragraphs")
    ev.add_argument("--json", action="store_true", help="print metrics as JSON")

    index = sub.add_parser("index", help="build, extend and inspect the index", parents=[common])
    index_sub = index.add_subparsers(title="index commands", parser_class=OneLineParser)
    build = command(index_sub, "build", cmd_index_build)
    build.add_argument("--full", action="store_true", help="re-embed every article instead of reusing vectors")
    build.add_argument("--device", choices=("cpu", "cuda"), help="device for embedding")
    add = command(index_sub, "add", cmd_index_add)
    add.add_argument("inputs", nargs="+", metavar="PATH_OR_URL", help="files, folders or http(s) URLs")
    add.add_argument("--device", choices=("cpu", "cuda"), help="device for embedding")
    remove = command(index_sub, "remove", cmd_index_remove)
    remove.add_argument("article_ids", nargs="+", metavar="ARTICLE_ID")
    status = command(index_sub, "status", cmd_index_status)
    status.add_argument("--json", action="store_true", help="print JSON")
    command(index_sub, "dump", cmd_index_dump)
    return parser


def _add_retrieval_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=("bm25", "dense", "hybrid"), help="retrieval mode (default: config)")
    p.add_argument("--top-k", type=int, help="passages per answer (default: config)")


def _configure_logging(verbose: bool) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs request URLs at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for noisy in ("jieba", "sentence_transformers", "transformers", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _open_service(config: Config, args: argparse.Namespace):
    from bot.service import QAService

    if getattr(args, "mode", None):
        config.retrieval.mode = args.mode
    return QAService.open(config, progress=sys.stderr.isatty())


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    """Answer a question with quoted passages (each followed by title, source and date)."""
    from bot.answer import check_question
    from bot.render_cli import render_json, render_text

    if args.file is None:
        # checked before the model loads, so a bad question fails at once
        question = check_question(args.question, config.answer.max_question_chars)
        service = _open_service(config, args)
        result = service.answer(question, top_k=args.top_k)
        print(render_json(result) if args.json else render_text(result, color=sys.stdout.isatty()))
        return 0
    if args.question:
        raise QuestionError("give either a question or --file FILE, not both")
    questions = _read_questions(args.file)
    service = _open_service(config, args)
    failed = False
    for question in questions:
        try:
            result = service.answer(question, top_k=args.top_k)
            print(render_json(result) if args.json else render_text(result) + "\n", flush=True)
        except QuestionError as exc:
            failed = True
            print(json.dumps({"question": question, "error": str(exc)}, ensure_ascii=False) if args.json
                  else f"error: {exc}", flush=True)
    return 2 if failed else 0


def _read_questions(name: str) -> list[str]:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionError(f"cannot read questions from {name}: {exc.__class__.__name__}; give a UTF-8 text file") from exc
    questions = [line.strip() for line in text.splitlines() if line.strip()]
    if not questions:
        raise QuestionError(f"{name} holds no question; write one question per line")
    return questions


def cmd_chat(args: argparse.Namespace, config: Config) -> int:
    """Ask question after question in an interactive prompt (empty line or Ctrl-D to quit)."""
    from bot.render_cli import render_text

    service = _open_service(config, args)
    print(f"已加载 {service.manifest['articles']} 篇文章、{service.manifest['passages']} 个段落。输入问题，回车提问；空行或 Ctrl-D 退出。")
    for question in _prompt_lines("问> "):
        try:
            print(render_text(service.answer(question, top_k=args.top_k), color=sys.stdout.isatty()) + "\n")
        except QuestionError as exc:
            print(f"error: {exc}")
    return 0


def _prompt_lines(prompt: str) -> Iterable[str]:
    while True:
        try:
            line = input(prompt)
        except EOFError:
            print()
            return
        if not line.strip():
            return
        yield line


def cmd_index_build(args: argparse.Namespace, config: Config) -> int:
    """Build the index from the corpus folder (with --full, re-embed everything)."""
    from bot.service import make_embedder, rebuild

    embedder = make_embedder(config, device=args.device)
    data = rebuild(config, embedder, progress=True, full=args.full)
    m = data.manifest
    print(f"indexed {m['articles']} articles, {m['passages']} passages with {m['model']} in {m['build_seconds']} s "
          f"→ {data.path}")
    return 0


def cmd_index_add(args: argparse.Namespace, config: Config) -> int:
    """Add articles from files, folders or URLs to the corpus and the index, embedding only new passages."""
    from bot.ingest import add_inputs

    return add_inputs(config, args.inputs, device=args.device)


def cmd_index_remove(args: argparse.Namespace, config: Config) -> int:
    """Remove articles by id from the index and the corpus folder."""
    from bot.ingest import remove_articles

    return remove_articles(config, args.article_ids)


def cmd_index_status(args: argparse.Namespace, config: Config) -> int:
    """Show what the index holds: articles, passages, model, build time."""
    from bot.store import live_generation, read_manifest

    manifest = read_manifest(config)
    if args.json:
        print(json.dumps({**manifest, "path": str(live_generation(config))}, ensure_ascii=False))
        return 0
    rows = [("articles", manifest["articles"]), ("passages", manifest["passages"]),
            ("model", f"{manifest['model']} ({manifest['dimension']}-d, {manifest['vector_index']})"),
            ("built at", manifest["built_at"]), ("corpus hash", manifest["corpus_hash"]),
            ("location", live_generation(config))]
    if manifest.get("last_add"):
        rows.append(("last add", _describe_last_add(manifest["last_add"])))
    for name, value in rows:
        print(f"{name:>12}: {value}")
    return 0


def _describe_last_add(last: dict) -> str:
    return (f"{last.get('at')}: {last.get('added', 0)} added, {last.get('skipped', 0)} skipped, "
            f"{last.get('rejected', 0)} rejected")


def cmd_index_dump(args: argparse.Namespace, config: Config) -> int:
    """Print every stored passage as JSONL."""
    from bot.store import load_index

    data = load_index(config, check_model=False)
    for p in data.passages:
        a = data.articles[p.article_id]
        row = {"passage_id": p.id, "article_id": a.id, "title": a.title, "source": a.source, "date": a.date,
               "url": a.url, "text": p.text}
        print(json.dumps(row, ensure_ascii=False))
    return 0


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    """Run the Telegram bot with long polling (token from the environment)."""
    from bot.telegram_bot import serve

    return serve(config)


def cmd_eval(args: argparse.Namespace, config: Config) -> int:
    """Measure retrieval quality and speed on a SQuAD-format data set."""
    from bot.evaluate import run_eval_command

    return run_eval_command(config, args.dataset, mode=args.mode, limit=args.limit, as_json=args.json)


if __name__ == "__main__":
    raise SystemExit(main())
