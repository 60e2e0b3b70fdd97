#!/usr/bin/env python3
"""Generates dashboards/ringkv.json (run from this folder: python3 gen_dashboard.py).

The dashboard is kept as generated JSON so Grafana's file provisioning can
load it as is; edit this script, not the JSON, and regenerate.
"""
import json

DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'instance=~"$instance"'
RI = "$__rate_interval"

panels = []
next_id = [1]
y = [0]


def row(title):
    panels.append({"type": "row", "title": title, "collapsed": False, "id": next_id[0],
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y[0]}, "panels": []})
    next_id[0] += 1
    y[0] += 1


def panel(title, targets, unit="short", kind="timeseries", w=8, h=8, x=0, desc=""):
    p = {
        "type": kind,
        "title": title,
        "description": desc,
        "id": next_id[0],
        "datasource": DS,
        "gridPos": {"h": h, "w": w, "x": x, "y": y[0]},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "none"}} if kind == "timeseries" else
                   {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area", "textMode": "auto"},
        "targets": [
            {"datasource": DS, "refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }
    next_id[0] += 1
    panels.append(p)


def line(*items):
    """Lays out panels of one line side by side, 24 columns wide."""
    x = 0
    for args, kwargs in items:
        kwargs.setdefault("w", 24 // len(items))
        panel(*args, x=x, **kwargs)
        x += kwargs["w"]
    y[0] += max(kw.get("h", 8) for _, kw in items)


def q(quantile, metric, by=""):
    group = f"le{', ' + by if by else ''}"
    return f"histogram_quantile({quantile}, sum by ({group}) (rate({metric}_bucket{{{SEL}}}[{RI}])))"


row("Overview")
line(
    (("Uptime", [(f"ringkv_uptime_seconds{{{SEL}}}", "{{instance}}")]), {"unit": "s", "kind": "stat", "h": 4}),
    (("I/O backend", [(f"ringkv_io_backend_info{{{SEL}}}", "{{backend}}")]), {"kind": "stat", "h": 4}),
    (("Connected clients", [(f"ringkv_connected_clients{{{SEL}}}", "{{instance}}")]), {"kind": "stat", "h": 4}),
    (("Keys", [(f"sum by (instance) (ringkv_keys{{{SEL}}})", "{{instance}}")]), {"kind": "stat", "h": 4}),
)

row("Write path (group-commit log)")
line(
    (("Write throughput", [
        (f"rate(ringkv_log_written_bytes_total{{{SEL}}}[{RI}])", "bytes/s {{instance}}"),
        (f"rate(ringkv_log_groups_total{{{SEL}}}[{RI}])", "groups/s {{instance}}"),
    ]), {"unit": "Bps", "desc": "Record bytes and groups the log writer writes per second."}),
    (("Fsync latency", [
        (q(0.5, "ringkv_log_fsync_duration_seconds", "kind"), "p50 {{kind}}"),
        (q(0.99, "ringkv_log_fsync_duration_seconds", "kind"), "p99 {{kind}}"),
        (q(0.999, "ringkv_log_fsync_duration_seconds", "kind"), "p99.9 {{kind}}"),
    ]), {"unit": "s"}),
    (("Fsyncs per second", [
        (f"sum by (kind) (rate(ringkv_log_fsyncs_total{{{SEL}}}[{RI}]))", "{{kind}}"),
    ]), {"unit": "ops"}),
)
line(
    (("Group size (records per write)", [
        (q(0.5, "ringkv_log_group_records"), "p50"),
        (q(0.99, "ringkv_log_group_records"), "p99"),
        (f"sum(rate(ringkv_log_group_records_sum{{{SEL}}}[{RI}])) / sum(rate(ringkv_log_group_records_count{{{SEL}}}[{RI}]))", "mean"),
    ]), {}),
    (("Group write size", [
        (q(0.5, "ringkv_log_group_write_bytes"), "p50"),
        (q(0.99, "ringkv_log_group_write_bytes"), "p99"),
    ]), {"unit": "bytes"}),
    (("Durable lag", [(f"ringkv_log_durable_lag_bytes{{{SEL}}}", "{{instance}}")]),
     {"unit": "bytes", "desc": "Bytes appended to the log that are not yet on stable storage."}),
)

row("AOF and snapshots")
line(
    (("AOF size", [
        (f"ringkv_aof_current_size_bytes{{{SEL}}}", "current {{instance}}"),
        (f"ringkv_aof_base_size_bytes{{{SEL}}}", "base {{instance}}"),
    ]), {"unit": "bytes"}),
    (("AOF manifest files", [(f"ringkv_aof_manifest_files{{{SEL}}}", "{{type}}")]), {}),
    (("Rewrites and saves running", [
        (f"ringkv_aof_rewrite_in_progress{{{SEL}}}", "AOF rewrite"),
        (f"ringkv_rdb_save_in_progress{{{SEL}}}", "RDB save"),
        (f"ringkv_loading{{{SEL}}}", "loading"),
    ]), {}),
)
line(
    (("Rewrites and saves finished", [
        (f"sum by (outcome) (increase(ringkv_aof_rewrites_total{{{SEL}}}[$__range]))", "rewrites {{outcome}}"),
        (f"sum by (outcome, mode) (increase(ringkv_rdb_saves_total{{{SEL}}}[$__range]))", "saves {{outcome}} {{mode}}"),
    ]), {"desc": "Over the dashboard's time range."}),
    (("Save and rewrite duration (p99)", [
        (q(0.99, "ringkv_rdb_save_duration_seconds"), "save"),
        (q(0.99, "ringkv_aof_rewrite_duration_seconds"), "rewrite"),
    ]), {"unit": "s"}),
    (("Time since last successful save", [
        (f"time() - ringkv_rdb_last_save_timestamp_seconds{{{SEL}}}", "{{instance}}"),
    ]), {"unit": "s"}),
)
line(
    (("Changes since last save", [(f"ringkv_rdb_changes_since_last_save{{{SEL}}}", "{{instance}}")]), {}),
    (("Fork time", [
        (q(0.99, "ringkv_fork_duration_seconds"), "p99"),
        (f"rate(ringkv_forks_total{{{SEL}}}[{RI}])", "forks/s"),
    ]), {"unit": "s"}),
    (("Snapshot extra memory", [
        (f"ringkv_cow_current_bytes{{{SEL}}}", "copy-on-write now"),
        (f"ringkv_cow_last_bytes{{{SEL}}}", "copy-on-write last {{job}}"),
        (f"ringkv_forkless_extra_current_bytes{{{SEL}}}", "forkless extra now"),
        (f"ringkv_forkless_extra_last_bytes{{{SEL}}}", "forkless extra last"),
    ]), {"unit": "bytes"}),
)

row("Clients, memory, commands")
line(
    (("Clients", [
        (f"ringkv_connected_clients{{{SEL}}}", "connected"),
        (f"ringkv_blocked_clients{{{SEL}}}", "blocked"),
        (f"rate(ringkv_rejected_connections_total{{{SEL}}}[{RI}])", "rejected/s"),
    ]), {}),
    (("Memory", [
        (f"ringkv_memory_used_bytes{{{SEL}}}", "used"),
        (f"ringkv_memory_rss_bytes{{{SEL}}}", "rss"),
    ]), {"unit": "bytes"}),
    (("Keys", [
        (f"ringkv_keys{{{SEL}}}", "{{db}}"),
        (f"rate(ringkv_expired_keys_total{{{SEL}}}[{RI}])", "expired/s"),
        (f"rate(ringkv_evicted_keys_total{{{SEL}}}[{RI}])", "evicted/s"),
    ]), {}),
)
line(
    (("Command rate", [
        (f"sum by (cmd) (rate(ringkv_commands_total{{{SEL}}}[{RI}]))", "{{cmd}}"),
    ]), {"unit": "ops"}),
    (("Command latency p99", [
        (q(0.99, "ringkv_command_duration_seconds", "cmd"), "{{cmd}}"),
    ]), {"unit": "s"}),
    (("Errors", [
        (f"sum by (kind) (rate(ringkv_errors_total{{{SEL}}}[{RI}]))", "{{kind}}"),
    ]), {"unit": "ops"}),
)

dashboard = {
    "uid": "ringkv-overview",
    "title": "ringkv",
    "description": "ringkv: write path, persistence, clients, memory and commands.",
    "tags": ["ringkv", "redis", "persistence"],
    "timezone": "browser",
    "editable": True,
    "graphTooltip": 1,
    "schemaVersion": 39,
    "version": 1,
    "refresh": "10s",
    "time": {"from": "now-1h", "to": "now"},
    "templating": {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": []},
        {"name": "instance", "label": "Instance", "type": "query", "datasource": DS,
         "definition": "label_values(ringkv_uptime_seconds, instance)",
         "query": {"query": "label_values(ringkv_uptime_seconds, instance)", "refId": "instance"},
         "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
         "current": {}, "hide": 0, "sort": 1, "options": []},
    ]},
    "annotations": {"list": []},
    "panels": panels,
}

with open("dashboards/ringkv.json", "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
