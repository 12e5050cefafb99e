"""The experiment report: ``DIR/summary.json`` -> ``DIR/report.html`` (self-contained) and ``DIR/report.md``.

What it shows, from the files the runs left behind (see docs/report.md):

- the main table: per suite and arm, the suite's headline metric (calibrated for the multiple-choice
  suites) as a mean with a 95% interval over seeds (Student t over the seeds when >= 2 have results;
  with one, the bootstrap interval over items from its results.json, marked), the difference to the
  reference arm (``baseline+sft``) with its interval (Welch t over seeds; one seed each: paired
  bootstrap over shared items) and whether it excludes zero, and a reading: ``degenerate`` (the
  answers do not depend on the item: no number is shown), ``at chance``, ``above``/``below chance``;
- the contamination of the charter items with what each arm was trained on;
- the token budget per arm;
- the loss curves of every arm (train loss against tokens, validation points, stage changes);
- the value-retention curves under the fine-tuning attacks (when robustness was run);
- per-value charter accuracy (value x arm);
- the raised arm's curriculum difficulty plot and stages;
- a few raised documents beside their sources.

Nothing here needs torch: the report can be rebuilt from the files alone (``write_report``). A piece
that is missing (a failed run, a suite not run, no robustness, no curriculum) is shown as "—" or left out.

One module per concern: ``stats`` (t and Welch intervals), ``load`` (the experiment's files), ``tables``
(the main table and contamination), ``plots`` and ``render`` (context, HTML and Markdown).
"""

from modelraising.report.load import load_experiment
from modelraising.report.render import build_context, render, write_report
from modelraising.report.stats import summarize, t_interval, t_ppf, welch_interval
from modelraising.report.tables import main_table_text, reading

__all__ = [
    "build_context",
    "load_experiment",
    "main_table_text",
    "reading",
    "render",
    "summarize",
    "t_interval",
    "t_ppf",
    "welch_interval",
    "write_report",
]
