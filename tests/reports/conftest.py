"""Fixtures that render reports for real: headless Chromium for html, poppler for pdf.

The browser and poppler are system packages (``scripts/test-deps.sh`` installs them; ``make test``
runs it first). A missing one is a test failure with that instruction, never a skip.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Headless, no sandbox (root here), and none of Chromium's own network traffic (the machine has no
# network but the package registries; a report page must need none).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = "run scripts/test-deps.sh (make test does) to install chromium and poppler-utils"


def require_tool(path_or_name: str) -> str:
    """The tool's path, or a failing test naming how to install it."""
    found = path_or_name if Path(path_or_name).exists() else shutil.which(path_or_name)
    if not found:
        pytest.fail(f"{path_or_name} is missing: {INSTALL_HINT}")
    return found


def png_pixels(png: bytes) -> np.ndarray:
    """An RGB(A) image as floats in 0..1."""
    return np.asarray(mpimg.imread(io.BytesIO(png), format="png"), dtype=float)


def assert_not_blank(png: bytes, what: str) -> None:
    """Something is drawn: the pixels vary and a fair share of them is not white."""
    pixels = png_pixels(png)[..., :3]
    assert pixels.std() > 0.05, f"{what} is blank (pixel std {pixels.std():.4f})"
    inked = (pixels.min(axis=-1) < 0.9).mean()
    assert inked > 0.01, f"{what} is almost all white ({inked:.2%} inked)"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test worker (Debian's, not a downloaded build)."""
    require_tool(CHROMIUM)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class OpenedPage:
    page: Page
    requests: list[str]  # every URL the page asked for
    dialogs: list[str]  # every alert/confirm it raised (an escaped report raises none)
    screenshot: bytes  # full page, PNG


@pytest.fixture
def open_html(browser: Browser, tmp_path: Path) -> Iterator[Callable[[str], OpenedPage]]:
    """Write html to a file, open it in a fresh browser context, wait for it and screenshot it."""
    contexts = []

    def opener(html: str) -> OpenedPage:
        path = tmp_path / f"report-{len(contexts)}.html"
        path.write_text(html, encoding="utf-8")
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        requests: list[str] = []
        dialogs: list[str] = []
        page.on("request", lambda request: requests.append(request.url))

        def on_dialog(dialog: object) -> None:
            dialogs.append(dialog.message)  # type: ignore[attr-defined]
            dialog.dismiss()  # type: ignore[attr-defined]

        page.on("dialog", on_dialog)
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_load_state("networkidle")
        return OpenedPage(page, requests, dialogs, page.screenshot(full_page=True))

    yield opener
    for context in contexts:
        context.close()


@dataclass
class RenderedPdf:
    pages: list[bytes]  # PNG per page, from pdftoppm at 60 dpi
    text: str  # pdftotext in reading order (columns one after the other), whitespace collapsed
    page_texts: list[str]  # per page, pdftotext -layout (lines as printed)


@pytest.fixture
def rasterize_pdf(tmp_path: Path) -> Callable[[bytes], RenderedPdf]:
    """pdftoppm and pdftotext over a pdf: the page images and the text a reader would see."""
    return rasterizer(tmp_path)


def rasterizer(where: Path) -> Callable[[bytes], RenderedPdf]:
    """:func:`rasterize_pdf`'s function, writing its files under ``where``."""
    pdftoppm, pdftotext = require_tool("pdftoppm"), require_tool("pdftotext")

    def rasterize(pdf: bytes) -> RenderedPdf:
        folder = where / f"pdf-{len(list(where.glob('pdf-*')))}"
        folder.mkdir()
        path = folder / "report.pdf"
        path.write_bytes(pdf)
        subprocess.run([pdftoppm, "-png", "-r", "60", str(path), str(folder / "page")], check=True)
        pages = [p.read_bytes() for p in sorted(folder.glob("page-*.png"))]

        def text(*options: str) -> str:
            return subprocess.run(
                [pdftotext, *options, str(path), "-"], check=True, capture_output=True, text=True
            ).stdout

        layout = text("-layout").split("\f")[: len(pages)]
        return RenderedPdf(pages, " ".join(text().split()), layout)

    return rasterize
