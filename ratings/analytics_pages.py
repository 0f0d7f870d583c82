"""The admins' analytics page (providers by province, city, category and tier, the
service-ecosystem index per province, charts and a map of China) and each of its
tables as a CSV file. Platform admins only: everyone else gets 404, as on every
admin page."""

from __future__ import annotations

import json

from litestar import Request, Response, get
from litestar.response import Template

from fuwu.clock import now
from fuwu.pages import render
from ratings.pages import _admin
from ratings.services import analytics

CSV_PATHS = {f"/admin/analytics/{name}.csv": name for name in analytics.TABLES}


@get("/admin/analytics", include_in_schema=False)
async def analytics_page(request: Request) -> Template:
    await _admin(request)
    found = await analytics.overview()
    return await render(request, "ratings/analytics.html", found=found,
                        chart_data=json.dumps(found["charts"], ensure_ascii=False),
                        csv_paths={name: path for path, name in CSV_PATHS.items()})


@get(list(CSV_PATHS), include_in_schema=False)
async def analytics_csv(request: Request) -> Response:
    await _admin(request)
    name = CSV_PATHS[request.url.path]
    moment = now()
    return Response(await analytics.csv_file(name, moment), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="fuwu-{name}-{moment.date().isoformat()}.csv"'})


ROUTES = [analytics_page, analytics_csv]
