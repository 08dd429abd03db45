"""The disk: the only layer of quotaopt that reads or writes files.

Company data (a folder of CSV, Parquet or .xlsx files, one workbook, or a database,
every rule checked), scenario files (YAML with
``extends``), run folders (staged, published atomically, with a manifest and an audit
line), trained models (skops with a trust list and a hash), and one atomic writer for
all of them. The commands (:mod:`quotaopt.commands`) call it at the edges; the stages
below it get frames and typed results, never a path to open.
"""

from quotaopt.io._activities import load_activities
from quotaopt.io._atomic import STAGING, Staging, publish, replace_folder, write_file_atomic
from quotaopt.io._audit import AUDIT_LOG
from quotaopt.io._audit import locked as locked_audit_log
from quotaopt.io._audit import read_lines as read_audit_log
from quotaopt.io._company import load_actuals, load_company, load_truth_capacity
from quotaopt.io._company_files import (
    check_company_out_dir,
    write_company_folder,
    write_csv_tables,
    written_by_generate,
)
from quotaopt.io._fsguard import probe_writable, regular_file_problem, require_regular_file
from quotaopt.io._inputs import load_inputs
from quotaopt.io._models import (
    FORMAT_VERSION,
    METADATA_FILE,
    MODEL_FILE,
    TRUSTED_TYPES,
    load_model,
    load_trusted_model,
    resolve_model_dir,
    save_model,
)
from quotaopt.io._opportunities import load_opportunities
from quotaopt.io._overrides import read_overrides
from quotaopt.io._problems import problems_csv, problems_document
from quotaopt.io._run_index import (
    LATEST,
    RUN_LIST_COLUMNS,
    list_runs,
    resolve_run_path,
    write_latest,
)
from quotaopt.io._runs import (
    FAULT_ENV,
    PLAN_FILES,
    WrittenRun,
    append_audit,
    check_runs_root,
    clean_stale_staging,
    csv_bytes,
    json_bytes,
    read_run,
    sha256_bytes,
    write_run,
)
from quotaopt.io._scenario import load_scenario
from quotaopt.io._sources import sha256_file

__all__ = [
    "AUDIT_LOG", "FAULT_ENV", "FORMAT_VERSION", "LATEST", "METADATA_FILE", "MODEL_FILE", "PLAN_FILES",
    "RUN_LIST_COLUMNS", "STAGING", "list_runs", "read_overrides", "resolve_run_path", "write_latest",
    "TRUSTED_TYPES", "Staging", "WrittenRun", "append_audit", "check_company_out_dir", "check_runs_root",
    "clean_stale_staging", "csv_bytes", "json_bytes", "load_actuals", "load_company", "load_inputs", "load_model",
    "load_activities", "load_opportunities", "load_scenario", "load_truth_capacity", "load_trusted_model", "locked_audit_log",
    "probe_writable", "problems_csv", "problems_document", "publish", "read_audit_log", "read_run",
    "regular_file_problem",
    "replace_folder", "require_regular_file", "resolve_model_dir", "save_model", "sha256_bytes", "sha256_file",
    "write_company_folder", "write_csv_tables", "write_file_atomic", "write_run", "written_by_generate",
]
