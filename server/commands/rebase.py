"""`govhall rebase --basic-code …`: carry a catalogue item's new version onto every local item claimed from it."""
from __future__ import annotations

import json
import sys

from server.commands.running import ProgressBar, open_context

HELP = "rebase the local items of one catalogue item onto a newer catalogue version"
LISTED = 200  # items listed one per line on stderr; the summary always counts them all


def configure(parser) -> None:
    parser.add_argument("--basic-code", required=True, help="12-character basic code of the catalogue item")
    parser.add_argument("--to-version", type=int, help="catalogue version to rebase onto (default: latest)")
    parser.add_argument("--region", help="only local items in this GB/T 2260 region (and below)")
    parser.add_argument("--org", help="only local items of this department (credit code)")
    parser.add_argument("--dry-run", action="store_true",
                        help="preview: how many would rebase clean or conflict, and on which paths; write nothing")
    parser.add_argument("--batch-size", type=_positive, default=None, metavar="N",
                        help="items written per transaction (default 500): a stop loses at most one batch's work")
    parser.add_argument("--as", dest="username", default="system",
                        help="the name the new versions and audit entries carry (default: system)")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def run(args, settings) -> int:
    """Run the impact preview (--dry-run) or the bulk rebase with a progress bar; print a JSON summary
    on stdout and the items left for editors on stderr. Returns 0 (items left over are not a failure:
    they wait for their editors; a rerun picks up the stale ones)."""
    from items.scope import Actor

    actor = Actor(username=args.username, role="province_admin")
    ctx = open_context(settings)
    service = ctx.rebase
    bar = ProgressBar("preview" if args.dry_run else "rebase")
    try:
        if args.dry_run:
            report = service.impact(args.basic_code, actor, args.to_version, args.region, args.org,
                                    progress=bar.update)
        else:
            sizing = {"batch": args.batch_size} if args.batch_size else {}
            report = service.rebase_all(args.basic_code, actor, args.to_version, args.region, args.org,
                                        progress=bar.update, **sizing)
    finally:
        bar.close()
        ctx.close()
    if args.dry_run:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    left = report["conflicted"] + report["invalid_items"] + report["in_review_items"]
    for entry in left[:LISTED]:
        why = (entry.get("paths") or [f"{e['path']} {e['rule']}" for e in entry.get("errors", [])]
               or [entry.get("status", "")])
        print(f"{entry['impl_code']}: {', '.join(why)}", file=sys.stderr)
    if len(left) > LISTED:
        print(f"… and {len(left) - LISTED} more left for editors", file=sys.stderr)
    summary = {k: report[k] for k in ("basic_code", "to_version", "items", "rebased", "conflicts", "invalid",
                                      "in_review", "stale", "conflict_paths")}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0

