"""Flask commands: demo data, the embedded server, the gazetteer importer, the outbox."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup


def register_commands(app: Flask) -> None:
    demo = AppGroup("demo", help="The demo council's data.")
    gazetteer = AppGroup("gazetteer", help="The council's address gazetteer.")
    outbox = AppGroup("outbox", help="The email outbox.")
    boundaries = AppGroup("boundaries", help="The council area and ward boundaries.")

    @demo.command("load")
    def demo_load() -> None:
        """Load the demo council (idempotent: running it twice changes nothing)."""
        from portal.demo import load_all

        try:
            lines = load_all()
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        for line in lines:
            click.echo(line)

    @gazetteer.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def gazetteer_import(path: Path) -> None:
        """Create or update addresses from a CSV file (uprn,line1,line2,town,postcode,latitude,longitude,ward)."""
        from portal.common.gazetteer.services import import_addresses_csv

        report = import_addresses_csv(path.read_text(encoding="utf-8-sig"))
        click.echo(
            f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.errors)} rejected"
        )
        for error in report.errors:
            click.echo(f"  {error}", err=True)

    @boundaries.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--level", type=click.Choice(["council", "ward"]), help="Detected if absent.")
    @click.option("--name-property", help="The name property, like WD24NM (detected if absent).")
    @click.option("--code-property", help="The code property, like WD24CD (detected if absent).")
    @click.option("--council", "council_code", help="Keep only this council's features (LAD code).")
    def boundaries_import(path: Path, **options: str | None) -> None:
        """Replace the council area or the wards with the boundaries in a GeoJSON file."""
        from portal.common.gazetteer.boundaries import BoundaryImportError, import_boundaries

        try:
            report = import_boundaries(path.read_text(encoding="utf-8-sig"), **options)
        except BoundaryImportError as exc:
            raise click.ClickException(f"{exc}. Nothing was imported.") from None
        click.echo(report.summary())

    @outbox.command("deliver")
    def outbox_deliver() -> None:
        """Send every due email now."""
        from portal.common.outbox import deliver_pending

        click.echo(f"{deliver_pending()} sent")

    @outbox.command("hold")
    def outbox_hold() -> None:
        """Keep every pending email back (run first on a restored database)."""
        from portal.common.outbox import hold_pending

        click.echo(f"{hold_pending()} held")

    @outbox.command("release")
    def outbox_release() -> None:
        """Send held emails after all (they go with the next delivery)."""
        from portal.common.outbox import release_held

        click.echo(f"{release_held()} released")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int)
    def serve(host: str, port: int) -> None:
        """Serve the embedded default: web server plus the job consumer in one process."""
        from werkzeug.serving import run_simple

        from portal.jobs import start_embedded_consumer, stop_embedded_consumer

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if app.config["PORTAL"].embedded_worker:
            start_embedded_consumer(app)
        click.echo(f"{app.config['PORTAL'].council_name} portal on http://{host}:{port}/")
        try:
            run_simple(host, port, app, threaded=True, use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            stop_embedded_consumer()

    app.cli.add_command(demo)
    app.cli.add_command(gazetteer)
    app.cli.add_command(outbox)
    app.cli.add_command(boundaries)
