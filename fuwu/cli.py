"""The `fuwu` command: serve, worker, migrate, demo, create-admin."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import click


def _ensure_piccolo_conf() -> None:
    os.environ.setdefault("PICCOLO_CONF", "fuwu.piccolo_conf")


@click.group()
def main() -> None:
    """Fuwu: the service market."""
    _ensure_piccolo_conf()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
def migrate() -> None:
    """Apply every app's database migrations."""
    from fuwu import db

    async def run() -> None:
        await db.start()
        try:
            await db.migrate(verbose=True)
        finally:
            await db.stop()

    asyncio.run(run())
    click.echo("Migrations applied.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Web processes.")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the web app and API. With several workers, run `fuwu worker` once too."""
    import uvicorn

    if workers > 1:
        # Each worker would otherwise run every scheduled job.
        os.environ["FUWU_RUN_SCHEDULER"] = "0"
        click.echo("Several workers: scheduled jobs are off in them. Run `fuwu worker` once per deployment.")
    click.echo(f"Fuwu on http://{host}:{port}")
    uvicorn.run("fuwu.app:create_app", factory=True, host=host, port=port, workers=workers, reload=reload,
                log_level="info", access_log=False)


@main.command()
def worker() -> None:
    """Run only the scheduled jobs (one per deployment)."""
    from fuwu import db
    from fuwu.app import wire
    from fuwu.scheduler import build_scheduler

    jobs = wire().jobs

    async def run() -> None:
        await db.start()
        scheduler = build_scheduler(jobs)
        scheduler.start()
        click.echo(f"Scheduler running {len(jobs)} jobs: " + ", ".join(job.id for job in jobs))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        scheduler.shutdown(wait=False)
        await db.stop()

    asyncio.run(run())


@main.command()
def demo() -> None:
    """Load realistic demo data (each domain's, in order; what is there is kept) and
    print its log-ins."""
    from fuwu import db
    from fuwu.app import wire
    from fuwu.demo import load_demo

    wire()

    async def run() -> None:
        await db.start()
        try:
            await load_demo(echo=click.echo)
        finally:
            await db.stop()

    asyncio.run(run())


@main.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", default="Platform admin", show_default=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a platform admin (or reset their password)."""
    from fuwu import db
    from fuwu.services import accounts

    async def run() -> None:
        await db.start()
        try:
            await accounts.create_admin(email, password, name)
        finally:
            await db.stop()

    asyncio.run(run())
    click.echo(f"Admin {email} ready.")
