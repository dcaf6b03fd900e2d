"""prior-report: what the symmetry prior is worth on the user's own data, in one command.

The grid (``grid``), the per-cell budget (``budget``), the plan and its estimate
(``plan``), resumable cells (``cells``), the report and verdict (``report``), the plot
(``plot``) and the subcommand (``command``). Apps supply ``PriorHooks`` (``hooks``).
"""

from gdl_science.prior_report.budget import Budget, cell_budget
from gdl_science.prior_report.command import prior_report_command
from gdl_science.prior_report.grid import Cell, build_grid
from gdl_science.prior_report.hooks import CellScores, PriorHooks, mean_over, prediction_change
from gdl_science.prior_report.report import compare, markdown_table, summarise, verdict

__all__ = [
    "Budget",
    "Cell",
    "CellScores",
    "PriorHooks",
    "build_grid",
    "cell_budget",
    "compare",
    "markdown_table",
    "mean_over",
    "prediction_change",
    "prior_report_command",
    "summarise",
    "verdict",
]
