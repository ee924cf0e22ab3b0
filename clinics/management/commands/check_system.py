"""Check that this machine can run Vaidya: Python version, data folder, PDF rendering, and the
compiled translation catalogues.

`make run` runs it before starting, and `make test` before the suite with
`--warnings-are-errors`: the suite turns every warning into an error, so a warning WeasyPrint
gives when it loads (HarfBuzz's subsetter missing) would fail the PDF tests; this stops first and
says which packages to install. It takes about as long as loading Django and WeasyPrint.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

MIN_PYTHON = (3, 11)
INDIAN_SCRIPTS = {"hi": "Hindi", "kn": "Kannada", "ta": "Tamil", "te": "Telugu", "bn": "Bengali"}
PANGO_HINT = (
    "install the system packages: apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 "
    "libharfbuzz-subset0 fonts-noto-core"
)


def _has_font_for(lang: str) -> bool:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    found = subprocess.run(  # noqa: S603 (a fixed program and arguments)
        [fc_list, f":lang={lang}", "family"], capture_output=True, text=True, check=False
    )
    return bool(found.stdout.strip())


class Command(BaseCommand):
    help = "Check Python, the data folder and WeasyPrint (PDFs); exits with status 1 on a problem."
    verbosity = 1
    warnings_are_errors = False

    def add_arguments(self, parser):
        parser.add_argument(
            "--warnings-are-errors",
            action="store_true",
            help="Fail on a warning WeasyPrint gives when it loads, as the test suite would.",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        self.warnings_are_errors = options["warnings_are_errors"]
        problems = [
            problem
            for problem in (
                self.check_python(),
                self.check_data_dir(),
                self.check_weasyprint(),
                self.check_translations(),
            )
            if problem
        ]
        if problems:
            for problem in problems:
                self.stderr.write(self.style.ERROR(f"FAIL  {problem}"))
            raise CommandError(f"{len(problems)} check(s) failed; see above.", returncode=1)
        if self.verbosity:
            self.stdout.write(self.style.SUCCESS("System ready."))

    def ok(self, message: str) -> None:
        """A passed check; `--verbosity 0` shows only warnings and failures."""
        if self.verbosity:
            self.stdout.write(f"OK    {message}")

    def check_python(self) -> str:
        found = ".".join(str(p) for p in sys.version_info[:3])
        if sys.version_info[:2] < MIN_PYTHON:
            wanted = ".".join(str(p) for p in MIN_PYTHON)
            return f"Python {found}: Vaidya needs Python {wanted} or newer."
        self.ok(f"Python {found}")
        return ""

    def check_data_dir(self) -> str:
        data_dir = Path(settings.DATA_DIR)
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".write-check-"):
                pass
        except OSError as exc:
            return f"The data folder {data_dir} is not writable ({exc.strerror or exc})."
        self.ok(f"Data folder {data_dir} is writable")
        return ""

    def check_translations(self) -> str:
        """Every catalogue (locale/<lang>/LC_MESSAGES/django.po) compiled and current: without
        its .mo, Django silently shows English to a Hindi patient."""
        stale = []
        for locale_path in settings.LOCALE_PATHS:
            for po in sorted(Path(locale_path).glob("*/LC_MESSAGES/django.po")):
                mo = po.with_suffix(".mo")
                if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                    stale.append(po.parent.parent.name)
        if stale:
            return (
                f"The translations ({', '.join(stale)}) are not compiled or are older than their "
                ".po files: run `make install` (it needs msgfmt: apt-get install gettext)."
            )
        self.ok("Translations compiled")
        return ""

    def check_weasyprint(self) -> str:
        progress = logging.getLogger("weasyprint.progress")
        level = progress.level
        progress.setLevel(logging.WARNING)  # its start-up chatter is not a check result
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                # Imported here, not at the top: this is the check that it loads, and that it
                # loads without warnings (which only show on the first import).
                import weasyprint  # noqa: PLC0415
            except (ImportError, OSError) as exc:
                return f"WeasyPrint cannot load ({exc}): {PANGO_HINT}"
            finally:
                progress.setLevel(level)
        if caught and self.warnings_are_errors:
            messages = " ".join(str(w.message) for w in caught)
            return (
                f"WeasyPrint warns when it loads ({messages}); the tests turn warnings into "
                f"errors. To fix, {PANGO_HINT}"
            )
        self.ok(f"WeasyPrint {weasyprint.__version__} can render PDFs")
        for warning in caught:
            # For example HarfBuzz-Subset missing: PDFs work, about three times slower.
            self.stdout.write(
                self.style.WARNING(f"WARN  WeasyPrint: {warning.message} To fix, {PANGO_HINT}")
            )
        self.check_fonts()
        return ""

    def check_fonts(self) -> None:
        """Patients' names in Hindi and other Indian scripts need the Noto fonts."""
        missing = [lang for lang in INDIAN_SCRIPTS if not _has_font_for(lang)]
        if missing:
            self.stdout.write(
                self.style.WARNING(
                    "WARN  No font for "
                    + ", ".join(INDIAN_SCRIPTS[m] for m in missing)
                    + ": names in these scripts print as empty boxes. To fix, "
                    "apt-get install -y fonts-noto-core"
                )
            )
        else:
            self.ok("Fonts for Hindi and other Indian scripts are installed")
