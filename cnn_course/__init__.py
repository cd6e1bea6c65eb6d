"""The CNN course's tooling: building, grading, reporting and serving the course."""

import sys

# jsonschema (which nbformat and nbgrader import) imports the optional rfc3987_syntax,
# which builds a Lark parser at import: 1.4 s in every grading process, for "iri" format
# checks that nbformat never makes. Marked missing, jsonschema skips those checks.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
