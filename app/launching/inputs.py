"""Which dataset and input files a launch gets.

This is the one place a launch asks for its input; the catalogue and split types (issue 5)
replace `choose_input` with the real answer (the next slice of the stage's dataset, a
dependency's outputs, a recovery's files). Until then a stage's dataset is passed on as
its name, with no file list.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LaunchInput:
    dataset: str = ""  # what %(dataset)s becomes
    files: list[str] | None = None  # None: the catalogue was not asked
    note: str = ""  # for the dry run: where the input comes from, in words


def _none(value: str | None) -> bool:
    return not value or value.strip().lower() == "none"


def choose_input(stage, *, dataset_override: str | None = None, preview: bool = False
                 ) -> LaunchInput:
    """The input of the next launch of `stage`. preview=True must change nothing (dry run)."""
    if dataset_override:
        return LaunchInput(dataset=dataset_override, note="dataset given for this launch")
    dataset = stage.dataset_or_split_data
    if _none(dataset):
        return LaunchInput(dataset="", note="this stage reads no dataset")
    return LaunchInput(dataset=dataset.strip(), note=f"the stage's dataset {dataset.strip()}")
