"""The ``calibration`` command: the shipped org designs against published figures."""

from __future__ import annotations

from gtmsim import calibration


def add_calibration(sub) -> None:
    published = sub.add_parser(
        "calibration",
        help="check the shipped org designs against published figures (CALIBRATION.md)",
        description=calibration.DESCRIPTION,
    )
    calibration.add_arguments(published)
    published.set_defaults(func=calibration.run_report)
