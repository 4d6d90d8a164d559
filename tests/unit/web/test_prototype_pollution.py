"""The dashboard's JavaScript cannot be made to pollute ``Object.prototype`` (ASVS V15.3.6).

Prototype pollution needs a write whose key path comes from outside: ``target[key] = value`` (worst,
nested ``target[a][b] = value``) or a merge that copies keys one by one. The dashboard's own scripts have
two computed-key writes, each reviewed and listed below; any new one, and any merge or prototype helper,
fails the scan until it is reviewed and listed. The URL filters, whose keys anyone can put in a link, and
the helpers that take API answers are run in Node with ``__proto__`` / ``constructor`` keys to show that
nothing reaches the prototype. (The vendored plotly.js bundle is not ours; its 2.25.2 fix for
CVE-2023-46308 is in the shipped version, which the scan checks.)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shopsight.web.routes import plotly_bundle

JS = Path(__file__).resolve().parents[3] / "src" / "shopsight" / "web" / "static" / "js"
NODE = shutil.which("node")
# A write to a computed key: ``x[k] = v``, ``x[k] ||= v``... (not ``const [a, b] =``, not ``==``).
COMPUTED_WRITE = re.compile(r"[\w)\]]\[[^\]\n]+\]\s*(?:[-+*/|&?]{0,2})=(?!=)")
SINKS = (
    "__proto__",
    "Object.assign(",
    "setPrototypeOf",
    "defineProperty",
    ".prototype",
    "constructor[",
    "merge(",
)
REVIEWED_WRITES = {
    # keys from defaults / the URL, into an Object.create(null) object
    ("filters.js", "for (const [key, value] of Object.entries(defaults)) filters[key] = value;"),
    ("filters.js", "for (const [key, value] of params) filters[key] = value;"),
    # an array of arrays indexed by indexOf() numbers
    (
        "pages/retention.js",
        "for (const row of rows) z[cohorts.indexOf(row.cohort_month)]"
        "[offsets.indexOf(row.month_offset)] = row.retention_rate;",
    ),
}


def _code_lines() -> list[tuple[str, str]]:
    """(path under js/, line without its // comment) of every dashboard script."""
    found = []
    for path in sorted(JS.rglob("*.js")):
        for line in path.read_text().splitlines():
            code = re.sub(r"(^|\s)//.*$", "", line).strip()
            if code:
                found.append((path.relative_to(JS).as_posix(), code))
    return found


def test_every_computed_key_write_is_a_reviewed_one() -> None:
    writes = {(path, code) for path, code in _code_lines() if COMPUTED_WRITE.search(code)}
    assert writes == REVIEWED_WRITES


def test_no_merge_or_prototype_helper_is_used() -> None:
    used = [(path, sink) for path, code in _code_lines() for sink in SINKS if sink in code]
    assert used == []


def test_the_scan_sees_the_patterns_it_refuses() -> None:
    """The regular expression catches what it must (else the test above could pass on anything)."""
    for risky in ("target[key] = value;", "a[b][c] = 1", "counts[name] ||= 0", "o[k]+= 1", "x.y[k]=v"):
        assert COMPUTED_WRITE.search(risky), risky
    for safe in ("const [a, b] = await all;", "if (a[k] === b) x = 1;", "groups.set(k, v);"):
        assert not COMPUTED_WRITE.search(safe), safe


def test_the_shipped_plotly_has_the_prototype_pollution_fix() -> None:
    version = re.search(r"plotly\.js v(\d+)\.(\d+)\.(\d+)", plotly_bundle().read_text()[:500])
    assert version is not None and tuple(map(int, version.groups())) >= (2, 25, 2)


def _node(script: str) -> dict[str, object]:
    if NODE is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert isinstance(answer, dict)
    return answer


def test_url_filters_cannot_reach_the_prototype() -> None:
    search = "?__proto__[polluted]=1&__proto__=x&constructor[prototype][polluted]=1&toString=y&country=DE"
    answer = _node(f"""
        globalThis.location = {{ search: {json.dumps(search)} }};
        const {{ currentFilters }} = await import({json.dumps((JS / "filters.js").as_uri())});
        const filters = currentFilters({{ grain: "day" }});
        const copy = {{ ...filters, from: "2026-01-01" }};
        console.log(JSON.stringify({{
          polluted: ({{}}).polluted ?? null, copyPolluted: copy.polluted ?? null,
          prototype: Object.getPrototypeOf(filters), keys: Object.keys(filters).sort(),
          proto: filters["__proto__"], country: filters.country, grain: filters.grain,
        }}));
    """)
    assert answer["polluted"] is None and answer["copyPolluted"] is None and answer["prototype"] is None
    assert answer["proto"] == "x" and answer["country"] == "DE" and answer["grain"] == "day"
    assert answer["keys"] == sorted(
        [
            "__proto__",
            "__proto__[polluted]",
            "constructor[prototype][polluted]",
            "toString",
            "country",
            "grain",
        ]
    )


def test_api_answers_with_prototype_keys_stay_data() -> None:
    """What an API answer goes through: JSON parsing, grouping, columns, query strings, spreading."""
    hostile = json.dumps(
        [{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}}, "n": 1}]
    )
    answer = _node(f"""
        const {{ groupBy, sum }} = await import({json.dumps((JS / "dom.js").as_uri())});
        const {{ columnsOf }} = await import({json.dumps((JS / "table.js").as_uri())});
        const {{ query }} = await import({json.dumps((JS / "api.js").as_uri())});
        const rows = JSON.parse({json.dumps(hostile)});
        const groups = groupBy(rows, "__proto__");
        const columns = columnsOf(rows, Object.fromEntries([["__proto__", {{ polluted: 1 }}]]));
        const spread = {{ ...rows[0], page: 1 }};
        const url = query(spread);
        console.log(JSON.stringify({{
          polluted: ({{}}).polluted ?? null, spreadPolluted: spread.polluted ?? null,
          columns: columns.map((c) => c.key), groups: groups.size, total: sum(rows, "n"), url,
        }}));
    """)
    assert answer["polluted"] is None and answer["spreadPolluted"] is None
    assert answer["columns"] == ["__proto__", "constructor", "n"]
    assert answer["groups"] == 1 and answer["total"] == 1
