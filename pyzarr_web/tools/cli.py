"""Command line interface. Each command imports its module lazily so `tree`/`cat` stay light."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import click

from pyzarr_web.tools.terminal import safe


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pyzarr-web")
def main() -> None:
    """Explore Zarr stores in the browser (or inspect them from the shell)."""


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: dist/ in a source checkout, ./dist where installed).")
def build(out: Path | None) -> None:
    """Assemble the self-contained static site (Pyodide, wheels, JS) into DIR."""
    from pyzarr_web.tools import build as site_build

    try:
        site_build.build_site(out)
    except site_build.BundleError as exc:
        raise click.ClickException(f"build failed: {exc}") from None


@main.command()
@click.argument("stores", nargs=-1)
@click.option("--port", default=8000, show_default=True, help="Port to listen on (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--site", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Built site to serve (default: dist/, built if missing).")
@click.option("--no-browser", is_flag=True, help="Do not open a web browser.")
@click.option("--endpoint", default=None, metavar="URL", envvar="AWS_ENDPOINT_URL",
              help="s3:// stores: a custom S3-compatible endpoint, for the page to read them from.")
def serve(stores: tuple[str, ...], port: int, host: str, site: Path | None, no_browser: bool,
          endpoint: str | None) -> None:
    """Serve the built site and local STORES (Zarr directories or .zip, Kerchunk reference files
    with their folder, Icechunk repositories) for offline viewing. A STORES entry that is a URL
    (http(s), s3://, gs://, az://) is printed as a page URL: the page reads it from where it is."""
    from pyzarr_web.tools import serve as server

    server.serve(list(stores), host=host, port=port, site=site, open_browser=not no_browser, endpoint=endpoint)


@main.command()
@click.argument("store", type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write (new, or a previous bundle, which is replaced).")
@click.option("--site", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Built site to start from (default: the package's, built if missing).")
def bundle(store: Path, out: Path, site: Path | None) -> None:
    """Write one folder that shows STORE (a Zarr directory or .zip, a Kerchunk reference file with
    its folder, an Icechunk repository) from any static host, and offline after the first visit."""
    from pyzarr_web.tools import bundle as bundler

    try:
        made = bundler.bundle(store, out, site)
    except bundler.BundleError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(safe(f"Wrote {out}: the site and {made['files']} files of the store ({made['bytes'] / 1e6:.1f} MB) "
                    f"in stores/, opened as {made['store']}; kept for offline use after the first visit."))
    click.echo(safe(f"Put the folder on any static host, or try it here: pyzarr-web serve --site {out}"))


@main.command()
@click.option("--port", default=8000, show_default=True, help="Port to listen on (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-data"),
              show_default=True, help="Where the sample store is written.")
@click.option("--no-browser", is_flag=True, help="Do not open a web browser.")
def demo(port: int, host: str, data: Path, no_browser: bool) -> None:
    """Write a sample store, build the site if needed, and serve both."""
    from pyzarr_web.tools import demo as demo_mod

    demo_mod.run_demo(data, host=host, port=port, open_browser=not no_browser)


def store_options(command):
    """Options of cloud, virtual and versioned stores, shared by the commands that open one."""

    body = command

    @functools.wraps(body)
    def run(*args, endpoint: str | None, region: str | None, **kwargs):
        allow_http = os.environ.get("AWS_ALLOW_HTTP", "").lower() == "true"
        return body(*args, cloud={"endpoint": endpoint, "region": region, "allow_http": allow_http},
                       **kwargs)

    command = click.option("--endpoint", default=None, metavar="URL", envvar="AWS_ENDPOINT_URL",
                           help="s3:// sources: a custom S3-compatible endpoint (default "
                                "$AWS_ENDPOINT_URL; a plain http:// one needs AWS_ALLOW_HTTP=true).")(run)
    command = click.option("--region", default=None, envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
                           help="s3:// sources: the bucket's region (default $AWS_REGION, else "
                                "us-east-1).")(command)
    command = click.option("--ref", default=None, metavar="REF",
                           help="Icechunk: the branch (main, branch:NAME), tag (tag:NAME) or "
                                "snapshot (snapshot:ID) to read; default main.")(command)
    return click.option("--target-base", default=None, metavar="URL",
                        help="Kerchunk: read referenced files from here instead (the directory "
                             "all targets share is replaced by URL).")(command)


@main.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the tree as JSON.")
@store_options
def tree(source: str, as_json: bool, **options) -> None:
    """Print the hierarchy of SOURCE (http(s), s3://, gs:// or az:// URL, local directory or .zip, a Kerchunk reference
    file or Parquet folder, an Icechunk repository; a kerchunk: or icechunk: prefix forces the
    kind)."""
    from pyzarr_web.tools import inspect_cmd

    inspect_cmd.tree(source, as_json=as_json, **options)


@main.command()
@click.argument("source")
@click.argument("array_path")
@click.option("--select", "selection", default="...", show_default=True,
              help='numpy basic indexing as text, e.g. "0,:,10:20".')
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the selection here with numpy.save.")
@store_options
def cat(source: str, array_path: str, selection: str, out: Path, **options) -> None:
    """Read a selection of ARRAY_PATH in SOURCE and save it as .npy."""
    from pyzarr_web.tools import inspect_cmd

    inspect_cmd.cat(source, array_path, selection, out, **options)


if __name__ == "__main__":
    main()
