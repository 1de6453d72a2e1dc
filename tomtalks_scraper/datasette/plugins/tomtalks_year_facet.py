"""A Datasette facet by year for ISO 8601 text dates (``?_facet_year=published_at``).

Why: Datasette's own ``date`` facet counts per day, far too fine for years of newsletters, and a
``year`` column would need a view (a migration). This facet groups ``substr(column, 1, 4)`` and
selects a year with Datasette's built-in ``column__startswith=YYYY`` filter, so it needs nothing
but the stored text. Loaded by ``tomtalks serve`` through ``--plugins-dir``.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args


class YearFacet(Facet):
    type = "year"

    async def suggest(self) -> list:
        return []  # enabled by metadata or ?_facet_year=COLUMN only

    async def facet_results(self) -> tuple[list, list]:
        results, timed_out = [], []
        args = dict(self.get_querystring_pairs())
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            year = f"substr({escape_sqlite(column)}, 1, 4)"
            sql = (
                f"select {year} as value, count(*) as count from ({self.sql}) "
                f"where {escape_sqlite(column)} glob '[0-9][0-9][0-9][0-9]*' "
                f"group by value order by value desc limit {size + 1}"
            )
            try:
                rows = await self.ds.execute(
                    self.database, sql, self.params, truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            except QueryInterrupted:
                timed_out.append(column)
                continue
            selector = f"{column}__startswith"
            values = []
            for row in rows.rows[:size]:
                selected = args.get(selector) == row["value"]
                toggle = (path_with_removed_args(self.request, {selector: row["value"]}) if selected
                          else path_with_added_args(self.request, {selector: row["value"]}))
                values.append({
                    "value": row["value"], "label": row["value"], "count": row["count"],
                    "toggle_url": self.ds.absolute_url(self.request, toggle), "selected": selected,
                })
            results.append({
                "name": column, "type": self.type, "results": values,
                "hideable": source_and_config["source"] != "metadata",
                "toggle_url": path_with_removed_args(self.request, {"_facet_year": column}),
                "truncated": len(rows) > size,
            })
        return results, timed_out


@hookimpl
def register_facet_classes() -> list[type[Facet]]:
    return [YearFacet]
