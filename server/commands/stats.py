"""`govhall stats`: item statistics on the command line, as a table, JSON, CSV or an Excel workbook."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from items import stats_export
from items.scope import Actor
from items.stats import parse_query
from server.commands.running import open_context

HELP = "item statistics for reform offices (table, json, csv or xlsx)"
# The columns the terminal table shows; the files carry every column of stats_export.STAT_COLUMNS.
TABLE_FIELDS = ("key", "label", "items", "instant_ratio", "compression_ratio", "compression_mean",
                "excluded_no_legal_limit", "visits_at_most_one_ratio", "zero_visit_ratio", "full_online_ratio")


def configure(parser) -> None:
    parser.add_argument("--group-by", default="region", choices=["region", "org", "item_type", "level"])
    parser.add_argument("--region", help="GB/T 2260 code: figures of this region and what lies inside it")
    parser.add_argument("--org", help="credit code of one department")
    parser.add_argument("--item-type", help="事项类型 code, e.g. 01")
    parser.add_argument("--level", help="行使层级 digit 1..7")
    parser.add_argument("--service-object", help="person, enterprise, …")
    parser.add_argument("--as-of", help="YYYY-MM-DD: the versions published at the end of that day (Asia/Shanghai)")
    parser.add_argument("--format", default="table", choices=["table", "json", "csv", "xlsx"])
    parser.add_argument("--output", "-o", help="file to write (required for xlsx; stdout otherwise)")
    parser.add_argument("--backfill", action="store_true",
                        help="first open facts for published items that have none (items published before "
                             "statistics were kept)")


def _cell(field: str, value) -> str:
    if value is None:
        return "-"
    if field.endswith("_ratio") or field.startswith("compression_"):
        return f"{value * 100:.2f}%"
    return str(value)


def table(result: dict) -> str:
    """Return the rows and the total as a plain-text table (percentages to two decimals)."""
    headers = {c.field: c.header for c in stats_export.STAT_COLUMNS}
    lines = [[headers[f] for f in TABLE_FIELDS]]
    for one in [*result["rows"], dict(result["total"], key="合计", label="")]:
        lines.append([_cell(f, one.get(f)) for f in TABLE_FIELDS])
    widths = [max(_width(line[i]) for line in lines) for i in range(len(TABLE_FIELDS))]
    out = [f"统计日期 {result['as_of']}  分组 {stats_export.GROUP_BY_LABELS[result['group_by']]}"]
    for line in lines:
        out.append("  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(line, widths)))
    return "\n".join(out)


def _width(text: str) -> int:
    # CJK characters take two terminal columns.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def run(args, settings) -> int:
    query = parse_query({"group_by": args.group_by, "region": args.region, "org": args.org,
                         "item_type": args.item_type, "level": args.level,
                         "service_object": args.service_object, "as_of": args.as_of})
    if args.format == "xlsx" and not args.output:
        raise SystemExit("--format xlsx needs --output FILE")
    ctx = open_context(settings)
    try:
        with ctx.db.connection_context():
            if args.backfill:
                print(f"facts opened for {ctx.stats.backfill()} published items", file=sys.stderr)
            result = ctx.stats.items(Actor(username="system", role="province_admin"), query)
    finally:
        ctx.close()
    if args.format == "xlsx":
        Path(args.output).write_bytes(stats_export.to_xlsx(result))
        print(f"written {args.output}", file=sys.stderr)
        return 0
    text = {"table": table, "csv": stats_export.to_csv,
            "json": lambda r: json.dumps(r, ensure_ascii=False, indent=1)}[args.format](result)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"written {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0

